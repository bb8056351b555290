using TtaActors.Tests.Support;
using TtaActors.Tests.TelemetryPipeline;

namespace TtaActors.Tests.Logs;

/// <summary>deploy/alloy/config.alloy read with the Alloy syntax reader (the alloy binary is not on the test machine).</summary>
public class AlloyConfigSpecs
{
    private static AlloyConfig Config() => AlloyConfig.Load(Path.Combine(DashboardSpecs.Deploy(), "alloy", "config.alloy"));

    [Fact]
    public void The_alloy_config_should_parse_and_refer_only_to_components_it_declares()
    {
        var config = Config();
        Assert.Empty(config.UnresolvedReferences());
        Assert.Throws<FormatException>(() => AlloyConfig.Parse("loki.write \"x\" {\n  endpoint {\n    url = \"http://loki\"\n}\n"));
        Assert.Throws<FormatException>(() => AlloyConfig.Parse("loki.write \"x\" { url \"http://loki\" }"));
        Assert.NotEmpty(AlloyConfig.Parse("loki.source.journal \"j\" { forward_to = [loki.write.missing.receiver] }").UnresolvedReferences());
    }

    [Fact]
    public void The_alloy_config_should_scrape_three_workspaces_export_the_host_and_forward_journal_and_otlp_logs()
    {
        var config = Config();
        var targets = ((AlloyConfig.ListValue)config.Component("prometheus.scrape", "tta").Attribute("targets")!).Items
            .Cast<AlloyConfig.ObjectValue>()
            .Select(t => t.Fields.ToDictionary(f => f.Key, f => ((AlloyConfig.Text)f.Value).Content))
            .ToList();
        Assert.Equal(new[] { ("localhost:9464", "tta-dev-main"), ("localhost:9465", "tta-dev-copilot"), ("localhost:9466", "tta-dev-review") },
            targets.Select(t => (t["__address__"], t["workspace"])));

        config.Component("prometheus.exporter.unix", "host");
        var host = config.Component("prometheus.scrape", "host");
        Assert.Equal("prometheus.exporter.unix.host.targets", ((AlloyConfig.Reference)host.Attribute("targets")!).Path);
        Assert.Equal("prometheus.remote_write.grafana_cloud.receiver",
            ((AlloyConfig.Reference)((AlloyConfig.ListValue)host.Attribute("forward_to")!).Items.Single()).Path);

        var journal = config.Component("loki.source.journal", "journal");
        Assert.Equal("loki.write.grafana_cloud.receiver", ((AlloyConfig.Reference)((AlloyConfig.ListValue)journal.Attribute("forward_to")!).Items.Single()).Path);

        var logs = config.Component("otelcol.receiver.otlp", "default").BlocksNamed("output").Single().Attribute("logs");
        Assert.Equal("otelcol.processor.batch.default.input", ((AlloyConfig.Reference)((AlloyConfig.ListValue)logs!).Items.Single()).Path);
    }
}
