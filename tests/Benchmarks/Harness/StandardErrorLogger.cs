using Akka.Actor;
using Akka.Dispatch;
using Akka.Configuration;
using Akka.Event;

namespace TtaActors.Benchmarks.Harness;

/// <summary>
/// The benchmark's Akka.NET logger: every log event goes to standard error, like the progress lines, so standard output
/// holds the JSON lines only (Akka's default logger writes to standard output, and a warning printed there, such as the
/// telemetry actor's drop report, would break a line in two).
/// </summary>
public sealed class StandardErrorLogger : ReceiveActor, IRequiresMessageQueue<ILoggerMessageQueueSemantics>
{
    /// <summary>The configuration that makes every actor system of the benchmark log through this logger only.</summary>
    public static Config Config { get; } = ConfigurationFactory.ParseString(
        $"akka.loggers = [\"{typeof(StandardErrorLogger).FullName}, {typeof(StandardErrorLogger).Assembly.GetName().Name}\"]\n" +
        "akka.stdout-loglevel = OFF");

    public StandardErrorLogger()
    {
        Receive<InitializeLogger>(_ => Sender.Tell(new LoggerInitialized()));
        Receive<LogEvent>(e => Console.Error.WriteLine(e.ToString()));
    }
}
