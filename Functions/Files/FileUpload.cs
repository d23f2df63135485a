namespace Qhaigc.Functions.Files;

/// <summary>An upload as it arrives: the client's multipart body (read once, never buffered whole), its content type and declared length.</summary>
public sealed record FileUpload(Stream Body, string ContentType, long? Length);
