using Akka.Configuration;
using TtaActors.Runtime.Cluster;

namespace TtaActors.Tests.Sessions;

/// <summary>Configuration of session specs: the runtime's journal configuration, and every message serialised.</summary>
internal static class SessionTestConfig
{
    public static Config ForJournal(JournalProvider provider, string connectionString) =>
        ConfigurationFactory.ParseString("""
                akka.actor.serialize-messages = on
                akka.test.single-expect-default = 20s
                """)
            .WithFallback(TtaClusterHostingExtensions.JournalConfig(new TtaClusterOptions { Journal = provider, ConnectionString = connectionString }));

    public static string TempSqliteFile() => Path.Combine(Path.GetTempPath(), $"tta-sessions-{Guid.NewGuid():N}.db");
}
