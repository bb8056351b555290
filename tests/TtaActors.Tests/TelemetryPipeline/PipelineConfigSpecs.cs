using Akka.Configuration;
using TtaActors.Runtime.Hosting;
using TtaActors.Telemetry.Export;

namespace TtaActors.Tests.TelemetryPipeline;

public class PipelineConfigSpecs
{
    [Fact]
    public void The_shipped_hocon_should_configure_the_pipeline()
    {
        var options = TelemetryPipelineConfig.FromConfig(HoconFiles.Load("base.conf"));
        Assert.Equal(65536, options.MaxQueueSize);
        Assert.Equal(512, options.MaxExportBatchSize);
        Assert.Equal(TimeSpan.FromSeconds(30), options.MaxRetryBackoff);
        Assert.Null(options.MaxExportAttempts);
    }

    [Fact]
    public void Hocon_values_should_override_defaults_and_a_bad_one_should_be_named()
    {
        var options = TelemetryPipelineConfig.FromConfig(ConfigurationFactory.ParseString(
            "tta.telemetry { max-queue-size = 100, scheduled-delay = 250ms, max-export-attempts = 4 }"));
        Assert.Equal(100, options.MaxQueueSize);
        Assert.Equal(TimeSpan.FromMilliseconds(250), options.ScheduledDelay);
        Assert.Equal(4, options.MaxExportAttempts);

        var error = Assert.Throws<ConfigurationException>(() => TelemetryPipelineConfig.FromConfig(
            ConfigurationFactory.ParseString("tta.telemetry.max-queue-size = lots")));
        Assert.StartsWith("tta.telemetry.max-queue-size: 'lots'", error.Message);
    }
}
