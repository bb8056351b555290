namespace TtaActors.Benchmarks.Scenarios;

/// <summary>The <c>impl</c> values of the JSON lines.</summary>
public static class Impl
{
    public const string TtaActors = "ttaactors";
    public const string AkkaChain = "akka-bare";
    public const string AgentFramework = "agent-framework";
    public const string PlainAsync = "plain-async";
}
