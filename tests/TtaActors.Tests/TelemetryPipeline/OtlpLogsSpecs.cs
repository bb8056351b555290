using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Resources;
using OpenTelemetry.Exporter;
using TtaActors.Runtime.Hosting;
using TtaActors.Telemetry.Export;

namespace TtaActors.Tests.TelemetryPipeline;

public class OtlpLogsSpecs
{
    [Fact]
    public async Task Log_records_should_be_exported_over_otlp_when_an_endpoint_is_configured()
    {
        await using var receiver = await OtlpReceiver.StartAsync(grpc: false);
        var otlp = new OtlpSettings { Endpoint = new Uri(receiver.Endpoint), Protocol = OtlpExportProtocol.HttpProtobuf };
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Information);
        var options = new TtaRuntimeOptions { ServiceName = "tta-otlp-logs", MetricsPort = 0 };
        builder.Services.AddTtaTelemetryPipeline(options, otlp);
        builder.Services.AddOpenTelemetry().ConfigureResource(resource => resource.AddTtaActorsResource(options));
        var marker = Guid.NewGuid().ToString("N");

        using (var host = builder.Build())
        {
            await host.StartAsync();
            host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("spec").LogWarning("exported log {Marker}", marker);
            await host.StopAsync();
        }

        var logs = receiver.OtherRequests.Where(r => r.Path == "/v1/logs").Select(r => Encoding.UTF8.GetString(r.Body)).ToList();
        Assert.Contains(logs, body => body.Contains(marker) && body.Contains("tta-otlp-logs"));
    }

    [Fact]
    public void Otlp_settings_should_follow_the_standard_variables_and_name_a_bad_one()
    {
        var settings = OtlpSettings.FromEnvironment(key => key switch
        {
            "OTEL_EXPORTER_OTLP_ENDPOINT" => "http://collector:4318/base",
            "OTEL_EXPORTER_OTLP_PROTOCOL" => "http/protobuf",
            "OTEL_LOGS_EXPORTER" => "none",
            _ => null,
        })!;
        Assert.Equal(new Uri("http://collector:4318/base/v1/traces"), settings.SignalEndpoint("traces"));
        Assert.True(settings.Traces);
        Assert.False(settings.Logs);
        Assert.Null(OtlpSettings.FromEnvironment(_ => null));
        Assert.Equal(new Uri("http://collector:4317"),
            OtlpSettings.FromEnvironment(key => key == "OTEL_EXPORTER_OTLP_ENDPOINT" ? "http://collector:4317" : null)!.SignalEndpoint("traces"));

        var error = Assert.Throws<OtlpConfigurationException>(() => OtlpSettings.FromEnvironment(key => key switch
        {
            "OTEL_EXPORTER_OTLP_ENDPOINT" => "http://collector:4317",
            "OTEL_EXPORTER_OTLP_PROTOCOL" => "thrift",
            _ => null,
        }));
        Assert.StartsWith("OTEL_EXPORTER_OTLP_PROTOCOL: 'thrift'", error.Message);
    }
}
