namespace Qhaigc.Bench.Runner.Scale;

/// <summary>
/// One timed launch of a standalone server (the gateway host or the bare proxy): milliseconds from the moment before the
/// process started to listening and to the first answered call, its CPU milliseconds at each, its resident bytes at the
/// first answer.
/// </summary>
internal readonly record struct ColdLaunch(double ListeningMs, double FirstAnswerMs, double CpuListeningMs, double CpuMs, double RssBytes);
