using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using TtaActors.Tests.Support;

namespace TtaActors.Tests.Packaging;

/// <summary>
/// Packs src/Telemetry, src/Actors, src/Actors/Providers, src/Runtime/Hosting and src/Runtime into a local feed once (<see cref="PackagedFeed"/>), outside the
/// repository, under a version of its own so nothing cached from an earlier pack is picked up.
/// </summary>
public sealed class PackagedFeed : IAsyncLifetime
{
#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    /// <summary>Why the specs cannot run here (no <c>dotnet</c> on the PATH); null when they can.</summary>
    public string? Unavailable { get; private set; }

    public string Repository { get; } = FindRepository();
    public string Work { get; } = Path.Combine(Path.GetTempPath(), $"tta-packages-{Guid.NewGuid():N}");
    public string Feed => Path.Combine(Work, "feed");
    public string Version { get; } = $"0.0.0-packcheck.{DateTime.UtcNow:yyyyMMddHHmmss}.{Environment.ProcessId}";

    public async Task InitializeAsync()
    {
        if (DotnetCli.Find() is null)
        {
            Unavailable = "dotnet is not on the PATH: the package specs need the SDK to pack, build and install.";
            return;
        }
        Directory.CreateDirectory(Feed);
        // The test build has built the projects already; packing that build leaves the assemblies the tests run from alone.
        foreach (var project in new[] { "src/Telemetry", "src/Actors", "src/Actors/Providers", "src/Runtime/Hosting", "src/Runtime" })
        {
            var pack = await DotnetCli.RunAsync(Repository, TimeSpan.FromMinutes(2),
                "pack", Path.Combine(Repository, project), "--no-build", "-c", Configuration, "-o", Feed, $"-p:PackageVersion={Version}",
                "-v", "q", "-nodeReuse:false");
            Assert.True(pack.ExitCode == 0, $"dotnet pack {project} failed:\n{pack.Output}");
        }
    }

    public Task DisposeAsync()
    {
        if (Directory.Exists(Work)) Directory.Delete(Work, recursive: true);
        // Restores extract the packages into the machine's package cache: take out exactly the version made here.
        var cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        foreach (var id in new[] { "ttaactors.telemetry", "ttaactors.actors", "ttaactors.llm.providers", "ttaactors.hosting", "tta" })
        {
            var extracted = Path.Combine(cache, id, Version.ToLowerInvariant());
            if (Directory.Exists(extracted)) Directory.Delete(extracted, recursive: true);
            var versions = Path.Combine(cache, id);
            if (Directory.Exists(versions) && !Directory.EnumerateFileSystemEntries(versions).Any()) Directory.Delete(versions);
        }
        return Task.CompletedTask;
    }

    /// <summary>The provider SDKs and the tokenizer, which only <c>TtaActors.Llm.Providers</c> may bring into an app.</summary>
    public static bool IsProviderSdk(string packageId) =>
        packageId is "OpenAI" or "Anthropic" or "Microsoft.Extensions.AI.OpenAI"
        || packageId.StartsWith("Microsoft.ML.Tokenizers", StringComparison.OrdinalIgnoreCase);

    public string Package(string id) => Path.Combine(Feed, $"{id}.{Version}.nupkg");

    /// <summary>A console project outside the repository that references <c>TtaActors.Actors</c> from the feed only.</summary>
    public string NewConsoleApp(string name, string program) =>
        NewApp(name, program, "Microsoft.NET.Sdk", "TtaActors.Actors");

    /// <summary>An ASP.NET Core project outside the repository that references <c>TtaActors.Hosting</c> from the feed only (not tta).</summary>
    public string NewWebApp(string name, string program) =>
        NewApp(name, program, "Microsoft.NET.Sdk.Web", "TtaActors.Hosting");

    private string NewApp(string name, string program, string sdk, string package)
    {
        var directory = Path.Combine(Work, name);
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="tta-feed" value="{Feed}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" protocolVersion="3" />
              </packageSources>
              <packageSourceMapping>
                <packageSource key="tta-feed"><package pattern="TtaActors.*" /></packageSource>
                <packageSource key="nuget.org"><package pattern="*" /></packageSource>
              </packageSourceMapping>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(directory, $"{name}.csproj"), $"""
            <Project Sdk="{sdk}">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="{package}" Version="{Version}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(directory, "Program.cs"), program);
        return directory;
    }

    private static string FindRepository()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(directory.FullName, "TtaActors.sln"))) directory = directory.Parent!;
        return directory.FullName;
    }
}

/// <summary>
/// What a developer outside this repository gets from <c>dotnet pack</c>: packages with README, licence, XML docs and
/// source link; a console app on them that runs the README's typed example and refuses a mistyped composition at its
/// line; and the <c>tta</c> tool installed from the feed running its demo. Real processes, one pack for the whole class.
/// </summary>
public sealed class PackageSpecs(PackagedFeed feed) : IClassFixture<PackagedFeed>
{
    private static readonly TimeSpan BuildPatience = TimeSpan.FromMinutes(2);

    [SkippableFact]
    public void Every_package_should_carry_its_readme_licence_version_and_commit_and_the_libraries_their_xml_docs()
    {
        Skip.If(feed.Unavailable is not null, feed.Unavailable);
        foreach (var id in new[] { "TtaActors.Telemetry", "TtaActors.Actors", "TtaActors.Llm.Providers", "TtaActors.Hosting", "tta" })
        {
            using var package = ZipFile.OpenRead(feed.Package(id));
            var entries = package.Entries.Select(e => e.FullName).ToHashSet();
            var nuspec = XDocument.Load(package.GetEntry($"{id}.nuspec")!.Open());
            XNamespace ns = nuspec.Root!.Name.NamespaceName;
            var metadata = nuspec.Root.Element(ns + "metadata")!;

            Assert.Equal(feed.Version, metadata.Element(ns + "version")!.Value);
            Assert.Equal(("expression", "MIT"), ((string)metadata.Element(ns + "license")!.Attribute("type")!, metadata.Element(ns + "license")!.Value));
            Assert.Equal("README.md", metadata.Element(ns + "readme")!.Value);
            Assert.Contains("README.md", entries);
            Assert.Contains("LICENSE", entries);
            Assert.Matches("^[0-9a-f]{40}$", (string)metadata.Element(ns + "repository")!.Attribute("commit")!);
            Assert.True(File.Exists(Path.ChangeExtension(feed.Package(id), ".snupkg")), $"{id} has no symbol package.");
            if (id == "tta")
            {
                Assert.Equal("DotnetTool", (string)metadata.Element(ns + "packageTypes")!.Element(ns + "packageType")!.Attribute("name")!);
                var settings = XDocument.Load(package.GetEntry("tools/net10.0/any/DotnetToolSettings.xml")!.Open());
                Assert.Equal("tta", (string)settings.Descendants("Command").Single().Attribute("Name")!);
            }
            else
            {
                Assert.Contains($"lib/net10.0/{id}.xml", entries);
                var dependencies = metadata.Descendants(ns + "dependency").ToDictionary(d => (string)d.Attribute("id")!, d => (string)d.Attribute("version")!);
                if (id == "TtaActors.Actors")
                {
                    Assert.Equal(feed.Version, dependencies["TtaActors.Telemetry"]);
                    Assert.Contains("Microsoft.Extensions.AI", dependencies.Keys);
                    Assert.DoesNotContain(dependencies.Keys, PackagedFeed.IsProviderSdk);
                }
                if (id == "TtaActors.Llm.Providers")
                {
                    Assert.Equal(feed.Version, dependencies["TtaActors.Actors"]);
                    Assert.Contains("OpenAI", dependencies.Keys);
                    Assert.Contains("Anthropic", dependencies.Keys);
                }
                if (id == "TtaActors.Hosting") Assert.Equal(feed.Version, dependencies["TtaActors.Actors"]);
            }
        }
    }

    [SkippableFact]
    public async Task A_console_app_outside_the_repository_should_run_the_readmes_typed_example_from_the_packages()
    {
        Skip.If(feed.Unavailable is not null, feed.Unavailable);
        using var page = new CapturingHttpServer();
        var tour = ReadmeTour(feed.Repository).Replace("https://example.org", page.BaseUrl + "/", StringComparison.Ordinal);
        var app = feed.NewConsoleApp("tour", tour);

        var build = await DotnetCli.RunAsync(app, BuildPatience, "build", "-v", "q", "-nodeReuse:false", "-p:UseSharedCompilation=false");
        Assert.True(build.ExitCode == 0, $"The README's typed example does not build from the packages:\n{build.Output}");
        // Referencing the core pulls no provider SDK, not even transitively: the restore's whole package graph is free of them.
        using (var assets = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(app, "obj", "project.assets.json"))))
        {
            var restored = assets.RootElement.GetProperty("libraries").EnumerateObject().Select(l => l.Name.Split('/')[0]).ToList();
            Assert.Contains("TtaActors.Actors", restored);
            Assert.DoesNotContain(restored, PackagedFeed.IsProviderSdk);
        }
        var run = await DotnetCli.RunAsync(app, TimeSpan.FromMinutes(1), Path.Combine(app, "bin", "Debug", "net10.0", "tour.dll"));

        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Single(page.Requests);
        var lines = run.Output.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        Assert.Contains(" / ", lines);
        Assert.DoesNotContain(lines, l => l.Contains("failed", StringComparison.Ordinal));
    }

    [SkippableFact]
    public async Task A_mistyped_composition_should_fail_to_compile_with_an_error_at_its_file_and_line()
    {
        Skip.If(feed.Unavailable is not null, feed.Unavailable);
        var app = feed.NewConsoleApp("mistyped", """
            using TtaActors.Actors.Typed;

            var length = Step.From<string, int>(text => text.Length, "length");
            var shout = Step.From<string, string>(text => text.ToUpperInvariant(), "shout");
            var workflow = length >> shout;
            Console.WriteLine(workflow);
            """);

        var build = await DotnetCli.RunAsync(app, BuildPatience, "build", "-v", "q", "-nodeReuse:false", "-p:UseSharedCompilation=false");

        Assert.NotEqual(0, build.ExitCode);
        var error = Assert.Single(build.Output.Split('\n').Where(l => l.Contains("error CS", StringComparison.Ordinal)).Distinct());
        Assert.Matches(@"Program\.cs\(5,16\): error CS0019: Operator '>>' cannot be applied to operands of type 'Step<string, int>' and 'Step<string, string>'", error);
    }

    [SkippableFact]
    public async Task The_tta_tool_installed_from_the_feed_should_run_its_demo()
    {
        Skip.If(feed.Unavailable is not null, feed.Unavailable);
        var tools = Path.Combine(feed.Work, "tools");
        var demo = Directory.CreateDirectory(Path.Combine(feed.Work, "demo")).FullName;

        // Source mapping (the apps' nuget.config) and --add-source do not mix, so the tool installs from a folder without one.
        var install = await DotnetCli.RunAsync(feed.Work, BuildPatience,
            "tool", "install", "tta", "--tool-path", tools, "--add-source", feed.Feed, "--version", feed.Version);
        Assert.True(install.ExitCode == 0, install.Output);
        var run = await DotnetCli.RunProgramAsync(demo, TimeSpan.FromMinutes(1), Path.Combine(tools, "tta"), "demo", "--metrics-port", "0");

        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Contains("primitive.SequentialPrimitive", run.Output, StringComparison.Ordinal);
        Assert.Contains("retry.attempt_2", run.Output, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task An_aspnetcore_app_outside_the_repository_should_host_the_node_api_and_a_code_workflow_from_the_packages()
    {
        Skip.If(feed.Unavailable is not null, feed.Unavailable);
        var remoting = FreePort.Next();
        var program = ReadmeHostApp(feed.Repository).Replace("Port = 8110", $"Port = {remoting}", StringComparison.Ordinal);
        Assert.Contains($"Port = {remoting}", program);
        var app = feed.NewWebApp("hostapp", program);

        var build = await DotnetCli.RunAsync(app, TimeSpan.FromMinutes(4), "build", "-v", "q", "-nodeReuse:false", "-p:UseSharedCompilation=false");
        Assert.True(build.ExitCode == 0, $"The README's host app does not build from the packages:\n{build.Output}");
        Assert.False(File.Exists(Path.Combine(app, "bin", "Debug", "net10.0", "tta.dll")), "The host app must not get the tta executable.");

        var port = FreePort.Next();
        using var host = HostProcess.Start(app, Path.Combine(app, "bin", "Debug", "net10.0", "hostapp.dll"), $"http://127.0.0.1:{port}");
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
        try
        {
            var ready = await host.WaitUntilAsync(async () => (await http.GetAsync("/readyz")).IsSuccessStatusCode, TimeSpan.FromSeconds(90));
            Assert.True(ready, $"/readyz did not answer 200 within 90 s:\n{host.Output}");
            Assert.Equal("ok", System.Text.Json.Nodes.JsonNode.Parse(await http.GetStringAsync("/healthz"))!["status"]!.GetValue<string>());

            var workflows = System.Text.Json.Nodes.JsonNode.Parse(await http.GetStringAsync("/workflows"))!["workflows"]!.AsArray();
            var shout = Assert.Single(workflows, w => w!["name"]!.GetValue<string>() == "shout")!;
            Assert.Equal("code", shout["source"]!.GetValue<string>());

            using var run = await http.PostAsync("/runs", new StringContent("""{"workflow": "shout", "input": "hello"}""", Encoding.UTF8, "application/json"));
            var answer = System.Text.Json.Nodes.JsonNode.Parse(await run.Content.ReadAsStringAsync())!;
            Assert.True(run.IsSuccessStatusCode, answer.ToJsonString());
            Assert.Equal("succeeded", answer["status"]!.GetValue<string>());
            Assert.Equal("HELLO!", answer["output"]!.GetValue<string>());

            Assert.Equal("my app, with a TtaActors node inside", await http.GetStringAsync("/"));
        }
        finally
        {
            host.Terminate();
        }
        var exit = await host.WaitForExitAsync(TimeSpan.FromSeconds(60));
        Assert.True(exit == 0, $"The host app exited with {exit} after SIGTERM:\n{host.Output}");
    }

    /// <summary>The README's "Host it in your own app" program: the C# block that calls AddTtaNode.</summary>
    private static string ReadmeHostApp(string repository)
    {
        var readme = File.ReadAllText(Path.Combine(repository, "README.md"));
        return Regex.Matches(readme, "```csharp\n(.*?)```", RegexOptions.Singleline).Select(m => m.Groups[1].Value)
            .First(block => block.Contains("AddTtaNode(", StringComparison.Ordinal));
    }

    private static string ReadmeTour(string repository)
    {
        var readme = File.ReadAllText(Path.Combine(repository, "README.md"));
        return Regex.Matches(readme, "```csharp\n(.*?)```", RegexOptions.Singleline).Select(m => m.Groups[1].Value)
            .First(block => block.Contains("using TtaActors.Actors.Typed;", StringComparison.Ordinal));
    }
}

/// <summary>A long-running app started with <c>dotnet APP.dll</c>, its output kept, stopped with SIGTERM like a service manager does.</summary>
internal sealed class HostProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private HostProcess(Process process) => _process = process;

    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    public static HostProcess Start(string workingDirectory, string dll, string urls)
    {
        var info = new ProcessStartInfo(DotnetCli.Find()!)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(dll);
        foreach (var name in info.Environment.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) ||
                     k.StartsWith("TTA_", StringComparison.Ordinal) || k.StartsWith("LANGFUSE_", StringComparison.Ordinal) ||
                     k is "OPENAI_API_KEY" or "ANTHROPIC_API_KEY" or "OTEL_SERVICE_NAME").ToList())
            info.Environment.Remove(name);
        info.Environment["ASPNETCORE_URLS"] = urls;
        var host = new HostProcess(Process.Start(info)!);
        host._process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (host._output) host._output.AppendLine(e.Data); };
        host._process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (host._output) host._output.AppendLine(e.Data); };
        host._process.BeginOutputReadLine();
        host._process.BeginErrorReadLine();
        return host;
    }

    /// <summary>Polls <paramref name="condition"/> (connection errors count as not yet) until it holds, the app exits or the patience ends.</summary>
    public async Task<bool> WaitUntilAsync(Func<Task<bool>> condition, TimeSpan patience)
    {
        var deadline = DateTime.UtcNow + patience;
        while (DateTime.UtcNow < deadline && !_process.HasExited)
        {
            try
            {
                if (await condition()) return true;
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(250);
        }
        return false;
    }

    /// <summary>SIGTERM: the host stops its services (the node leaves the cluster, flushes telemetry) and exits.</summary>
    public void Terminate()
    {
        if (_process.HasExited) return;
        using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-TERM", _process.Id.ToString() }, UseShellExecute = false })!;
        kill.WaitForExit();
    }

    public async Task<int?> WaitForExitAsync(TimeSpan patience)
    {
        using var limit = new CancellationTokenSource(patience);
        try
        {
            await _process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            return null;
        }
        _process.WaitForExit();
        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.Dispose();
    }
}

/// <summary>Runs the .NET CLI (or a program it installed) as a child process with a clean build environment.</summary>
internal static class DotnetCli
{
    public sealed record Result(int ExitCode, string Output);

    public static string? Find() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
        .Select(directory => Path.Combine(directory, OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet"))
        .FirstOrDefault(File.Exists);

    public static Task<Result> RunAsync(string workingDirectory, TimeSpan patience, params string[] arguments) =>
        RunProgramAsync(workingDirectory, patience, Find()!, arguments);

    public static async Task<Result> RunProgramAsync(string workingDirectory, TimeSpan patience, string startWith, params string[] arguments)
    {
        var info = new ProcessStartInfo(startWith)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        // The test host's MSBuild settings would steer the child build into this repository's SDK resolution.
        foreach (var name in info.Environment.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase)).ToList())
            info.Environment.Remove(name);
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        // The demo runs on the offline model and exports nowhere, whatever keys the machine has.
        foreach (var key in new[] { "OPENAI_API_KEY", "ANTHROPIC_API_KEY", "TTA_LLM_PROVIDER", "LANGFUSE_PUBLIC_KEY", "LANGFUSE_SECRET_KEY",
                     "TTA_METRICS_PORT", "TTA_SERVICE_NAME", "OTEL_SERVICE_NAME" })
            info.Environment.Remove(key);

        using var process = Process.Start(info)!;
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var limit = new CancellationTokenSource(patience);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{startWith} {string.Join(' ', arguments)} did not finish within {patience}:\n{output}");
        }
        process.WaitForExit(); // drains the redirected streams
        lock (output) return new Result(process.ExitCode, output.ToString());
    }
}
