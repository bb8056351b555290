using TtaActors.Actors.Integrations.E2B;
using TtaActors.Actors.Integrations.Supabase;

namespace TtaActors.Runtime.Workflows;

/// <summary>A <c>supabase:</c> step: the query (identifiers fixed by the file, values from templates) and its timeout.</summary>
public sealed record SupabaseStepSpec(SourceLocation At, string? Name, SupabaseQuery Query, double TimeoutSeconds) : StepSpec(At, Name)
{
    /// <inheritdoc/>
    public override string Kind => "supabase";
}

/// <summary>One file an <c>e2b:</c> step writes into the sandbox: a literal path and a content template.</summary>
public sealed record E2BFileSpec(string Path, Template Content);

/// <summary>An <c>e2b:</c> step: code or a command (templates), files in and out, and its bounds.</summary>
public sealed record E2BStepSpec(SourceLocation At, string? Name, string? Template, Template? Code, string? Language, Template? Command,
    string? Cwd, IReadOnlyList<KeyValuePair<string, Template>> Envs, IReadOnlyList<E2BFileSpec> Files, IReadOnlyList<string> Download,
    double TimeoutSeconds, double SandboxTimeoutSeconds, bool AllowErrors) : StepSpec(At, Name)
{
    /// <inheritdoc/>
    public override string Kind => "e2b";

    /// <summary>The run for one input: the templates rendered, everything else as the file fixes it.</summary>
    public E2BRunRequest Render(TemplateScope scope)
    {
        var describe = Describe();
        return new E2BRunRequest
        {
            Template = Template,
            Code = Code?.RenderText(scope, describe),
            Language = Language,
            Command = Command?.RenderText(scope, describe),
            Cwd = Cwd,
            Envs = Envs.ToDictionary(e => e.Key, e => e.Value.RenderText(scope, $"env '{e.Key}' of the {describe}")),
            Files = Files.Select(f => new E2BFile(f.Path, f.Content.RenderText(scope, $"file '{f.Path}' of the {describe}"))).ToList(),
            Download = Download,
            Timeout = TimeSpan.FromSeconds(TimeoutSeconds),
            SandboxLifetime = TimeSpan.FromSeconds(SandboxTimeoutSeconds),
            AllowErrors = AllowErrors,
        };
    }
}
