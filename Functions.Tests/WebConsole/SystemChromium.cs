namespace Qhaigc.Functions.Tests.WebConsole;

/// <summary>
/// The machine's own Chromium (Debian's <c>chromium</c> package, which <c>.ci/run</c> installs): the console tests never
/// use Playwright's browser download. <c>QHAIGC_CHROMIUM</c> names another executable.
/// </summary>
public static class SystemChromium
{
    private static readonly string[] Candidates = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

    public static string ExecutablePath =>
        Environment.GetEnvironmentVariable("QHAIGC_CHROMIUM") is { Length: > 0 } configured ? configured
        : Candidates.FirstOrDefault(File.Exists)
          ?? throw new InvalidOperationException(
              "No Chromium found for the console's browser tests: install Debian's package (`apt-get install -y chromium`, as .ci/run does) " +
              "or set QHAIGC_CHROMIUM to a Chromium executable.");
}
