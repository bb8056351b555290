using System.Text.Json;
using Akka.Configuration;
using TtaActors.Runtime.Hosting;
using Xunit;

namespace TtaActors.Tests.Sessions;

/// <summary>Configuration of session specs: the shipped HOCON, a real journal, and every message serialised.</summary>
internal static class SessionTestConfig
{
    public static Config ForJournal(string persistenceFile, string connectionString)
    {
        var quoted = JsonSerializer.Serialize(connectionString);
        return ConfigurationFactory.ParseString($"""
                akka.actor.serialize-messages = on
                akka.test.single-expect-default = 20s
                akka.persistence.journal.sql.connection-string = {quoted}
                akka.persistence.snapshot-store.sql.connection-string = {quoted}
                """)
            .WithFallback(HoconFiles.Load(persistenceFile))
            .WithFallback(HoconFiles.Load("serialization.conf"));
    }

    public static string TempSqliteFile() => Path.Combine(Path.GetTempPath(), $"tta-sessions-{Guid.NewGuid():N}.db");
}
