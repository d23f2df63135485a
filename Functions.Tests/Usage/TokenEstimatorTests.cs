using Qhaigc.Functions.Usage;

namespace Qhaigc.Functions.Tests.Usage;

/// <summary>The input estimate's page count of a PDF (an estimate only: spend caps reserve PDFs at their worst case).</summary>
public sealed class TokenEstimatorTests
{
    /// <summary>Three pages, all inside one compressed object stream (/ObjStm, /FlateDecode), as PDF 1.5 writers keep them.</summary>
    private const string CompressedPdf =
        "JVBERi0xLjUKMSAwIG9iago8PC9UeXBlL09ialN0bS9OIDMvRmlyc3QgMTIvRmlsdGVyL0ZsYXRlRGVjb2RlL0xlbmd0aCA1NT4+CnN0cmVhbQp4nDNRMFAwVTA0VTBTMDZQsLHRD6ksSNUPSExPtbODcRXQ+GAukChKzStRMAIaEGRnBwCiQBO5CmVuZHN0cmVhbQplbmRvYmoKMiAwIG9iago8PC9UeXBlL1BhZ2VzL0NvdW50IDM+PgplbmRvYmoKJSVFT0YK";

    [Fact]
    public void CountPdfPages_CountsPagesInsideCompressedObjectStreams()
    {
        // Act
        var pages = TokenEstimator.CountPdfPages(CompressedPdf);

        // Assert
        Assert.Equal(3, pages);
    }

    [Theory]
    [InlineData("not base64!")]
    [InlineData("JVBERi0xLjUKMSAwIG9iago8PC9UeXBlL09ialN0bS9GaWx0ZXIvRmxhdGVEZWNvZGU+PgpzdHJlYW0Kbm90IGRlZmxhdGUKZW5kc3RyZWFtCg==")]
    public void CountPdfPages_CountsNothing_WhenThePdfCannotBeRead(string base64)
    {
        // Act
        var pages = TokenEstimator.CountPdfPages(base64);

        // Assert
        Assert.Equal(0, pages);
    }
}
