using Akka.Configuration;
using TtaActors.Runtime.Hosting;
using TtaActors.Telemetry.Export;
using Pipeline = TtaActors.Telemetry.Export.TelemetryPipeline;

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
        Assert.Equal(5, options.MaxExportAttempts);
        Assert.Equal(64L * 1024 * 1024, options.MaxQueueBytes);
        Assert.Equal(TimeSpan.FromSeconds(30), options.ExportTimeout);
        Assert.Equal(TimeSpan.FromSeconds(60), options.FailureLogInterval);
        Assert.Equal(TimeSpan.FromSeconds(5), options.ShutdownTimeout);
        // The defaults in code and in the shipped file are the same.
        Assert.Equal(new TelemetryPipelineOptions(), options);
    }

    [Fact]
    public void The_shipped_shutdown_phase_should_leave_room_for_the_flush_and_the_report()
    {
        var config = HoconFiles.Load("base.conf");
        var phase = config.GetTimeSpan("akka.coordinated-shutdown.phases.before-actor-system-terminate.timeout");
        Assert.True(phase >= TelemetryPipelineConfig.FromConfig(config).ShutdownTimeout + Pipeline.CloseAllowance);
    }

    [Fact]
    public void Hocon_values_should_override_defaults_and_a_bad_one_should_be_named()
    {
        var options = TelemetryPipelineConfig.FromConfig(ConfigurationFactory.ParseString(
            "tta.telemetry { max-queue-size = 100, max-queue-bytes = 2MiB, scheduled-delay = 250ms, max-export-attempts = 4, " +
            "export-timeout = 3s, failure-log-interval = 10s, shutdown-timeout = 2s }"));
        Assert.Equal(100, options.MaxQueueSize);
        Assert.Equal(2 * 1024 * 1024, options.MaxQueueBytes);
        Assert.Equal(TimeSpan.FromSeconds(3), options.ExportTimeout);
        Assert.Equal(TimeSpan.FromSeconds(10), options.FailureLogInterval);
        Assert.Equal(TimeSpan.FromSeconds(2), options.ShutdownTimeout);
        Assert.Null(TelemetryPipelineConfig.FromConfig(ConfigurationFactory.ParseString("tta.telemetry.max-export-attempts = unlimited")).MaxExportAttempts);
        Assert.Equal(TimeSpan.FromMilliseconds(250), options.ScheduledDelay);
        Assert.Equal(4, options.MaxExportAttempts);

        var error = Assert.Throws<ConfigurationException>(() => TelemetryPipelineConfig.FromConfig(
            ConfigurationFactory.ParseString("tta.telemetry.max-queue-size = lots")));
        Assert.StartsWith("tta.telemetry.max-queue-size: 'lots'", error.Message);
        var bytes = Assert.Throws<ConfigurationException>(() => TelemetryPipelineConfig.FromConfig(
            ConfigurationFactory.ParseString("tta.telemetry.max-queue-bytes = plenty")));
        Assert.StartsWith("tta.telemetry.max-queue-bytes: 'plenty'", bytes.Message);
    }
}
