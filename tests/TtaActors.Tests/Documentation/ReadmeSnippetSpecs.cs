using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using TtaActors.Tests.Support;

namespace TtaActors.Tests.Documentation;

/// <summary>
/// The C# in README.md is compiled here, each block as the program of a project with the SDK's implicit usings, so a
/// snippet that stops compiling fails the tests; the tour also runs, against a loopback server instead of the web.
/// </summary>
public sealed class ReadmeSnippetSpecs
{
    private const string TourUrl = "https://example.org";

    private static readonly string[] ImplicitUsings =
        ["System", "System.Collections.Generic", "System.IO", "System.Linq", "System.Net.Http", "System.Threading", "System.Threading.Tasks"];

    private static IReadOnlyList<string> Snippets()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(directory.FullName, "TtaActors.sln"))) directory = directory.Parent!;
        var readme = File.ReadAllText(Path.Combine(directory.FullName, "README.md"));
        return Regex.Matches(readme, "```csharp\n(.*?)```", RegexOptions.Singleline).Select(m => m.Groups[1].Value).ToList();
    }

    private static Assembly Compile(string source, string name)
    {
        // Everything the runtime's users reference: the framework, and TtaActors with its dependencies (beside the tests).
        var references = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Concat(Directory.GetFiles(AppContext.BaseDirectory, "*.dll"))
            .GroupBy(Path.GetFileName, StringComparer.OrdinalIgnoreCase).Select(g => g.First())
            .Where(IsManagedAssembly)
            .Select(path => MetadataReference.CreateFromFile(path));
        var usings = string.Concat(ImplicitUsings.Select(u => $"global using {u};\n"));
        var compilation = CSharpCompilation.Create(name,
            [CSharpSyntaxTree.ParseText(usings, path: "GlobalUsings.cs"), CSharpSyntaxTree.ParseText(source, path: "README.md")],
            references,
            new CSharpCompilationOptions(OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Enable));
        using var image = new MemoryStream();
        var emitted = compilation.Emit(image);
        var errors = emitted.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error || d.IsWarningAsError || d.Severity == DiagnosticSeverity.Warning).ToList();
        Assert.True(emitted.Success && errors.Count == 0,
            $"README snippet '{name}' does not compile:\n{string.Join("\n", errors)}\n--- snippet\n{source}");
        return Assembly.Load(image.ToArray());
    }

    private static bool IsManagedAssembly(string path)
    {
        try
        {
            AssemblyName.GetAssemblyName(path);
            return true;
        }
        catch (BadImageFormatException)
        {
            return false;
        }
    }

    [Fact]
    public void Every_csharp_snippet_of_the_readme_compiles_as_written()
    {
        var snippets = Snippets();
        Assert.True(snippets.Count >= 3, "README.md should hold the tour, the LLM and the Langfuse snippets.");
        for (var i = 0; i < snippets.Count; i++) Compile(snippets[i], $"readme-snippet-{i + 1}");
    }

    [Fact]
    public async Task The_tour_runs_as_written_and_summarises_a_short_page()
    {
        var tour = Snippets().First(s => s.Contains(TourUrl, StringComparison.Ordinal));
        using var page = new CapturingHttpServer();
        var program = Compile(tour.Replace(TourUrl, page.BaseUrl + "/", StringComparison.Ordinal), "readme-tour");

        var output = new StringWriter();
        var console = Console.Out;
        Console.SetOut(output);
        try
        {
            var main = program.EntryPoint!;
            var run = main.Invoke(null, main.GetParameters().Length == 0 ? null : [Array.Empty<string>()]);
            if (run is Task task) await task;
        }
        finally
        {
            Console.SetOut(console);
        }

        // The loopback page is empty: shorter than the 200 characters the summary takes, which once threw.
        Assert.Single(page.Requests);
        var lines = output.ToString().Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        Assert.DoesNotContain(lines, l => l.Contains("failed", StringComparison.Ordinal));
        Assert.Contains(" / ", lines);
    }
}
