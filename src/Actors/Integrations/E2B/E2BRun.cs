using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using TtaActors.Telemetry;
using TtaActors.Telemetry.Llm;

namespace TtaActors.Actors.Integrations.E2B;

/// <summary>A file written into the sandbox before the code or command runs.</summary>
public sealed record E2BFile(string Path, string Content);

/// <summary>One sandboxed run: code (in the code interpreter) or a command, with files in and out.</summary>
public sealed record E2BRunRequest
{
    /// <summary>The languages the code interpreter runs.</summary>
    public static readonly IReadOnlyList<string> Languages = ["python", "javascript", "typescript", "r", "java", "bash"];

    /// <summary>The template; null uses the code interpreter's for code and E2B's <c>base</c> for commands.</summary>
    public string? Template { get; init; }

    /// <summary>The code to run in the code interpreter; give this or <see cref="Command"/>.</summary>
    public string? Code { get; init; }
    /// <summary>The language of <see cref="Code"/> (one of <see cref="Languages"/>); null is Python.</summary>
    public string? Language { get; init; }
    /// <summary>The shell command to run; give this or <see cref="Code"/>.</summary>
    public string? Command { get; init; }
    /// <summary>The working directory of <see cref="Command"/>.</summary>
    public string? Cwd { get; init; }
    /// <summary>Environment variables of the code or command inside the sandbox.</summary>
    public IReadOnlyDictionary<string, string> Envs { get; init; } = new Dictionary<string, string>();
    /// <summary>Files written into the sandbox before the run.</summary>
    public IReadOnlyList<E2BFile> Files { get; init; } = [];
    /// <summary>Paths of files read back from the sandbox after the run, into the result's <c>files</c>.</summary>
    public IReadOnlyList<string> Download { get; init; } = [];

    /// <summary>Time the code or command may run.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The sandbox's lifetime at E2B (it is killed when the run ends; this bounds it should the kill never arrive).</summary>
    public TimeSpan SandboxLifetime { get; init; } = TimeSpan.FromSeconds(300);

    /// <summary>False fails the run when the code raises or the command exits non-zero; true answers with the error in the result.</summary>
    public bool AllowErrors { get; init; }

    /// <summary>True for code, false for a command.</summary>
    public bool IsCode => Code is not null;
    /// <summary>The tool name on the run's span: <c>e2b.run_code</c> or <c>e2b.run_command</c>.</summary>
    public string ToolName => IsCode ? TelemetryNames.E2B.RunCodeTool : TelemetryNames.E2B.RunCommandTool;
    /// <summary><see cref="Template"/>, else the code interpreter's for code and <c>base</c> for commands.</summary>
    public string EffectiveTemplate => Template ?? (IsCode ? E2BOptions.CodeInterpreterTemplate : "base");

    /// <summary>Every problem of the request, each saying what to change; empty when it can run.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if ((Code is null) == (Command is null)) problems.Add("Give exactly one of code and command.");
        if (Language is not null && (Code is null || !Languages.Contains(Language)))
            problems.Add(Code is null ? "language only applies to code." : $"Language '{Language}' is not one of {string.Join(", ", Languages)}.");
        if (Cwd is not null && Command is null) problems.Add("cwd only applies to a command.");
        if (Timeout <= TimeSpan.Zero) problems.Add("The timeout must be positive.");
        if (SandboxLifetime < Timeout) problems.Add("The sandbox's lifetime must be at least the run's timeout, or the sandbox would be gone before the run ends.");
        return problems;
    }
}

/// <summary>What a sandboxed run produced; <see cref="Files"/> holds the downloaded files (text, or <c>{"base64": ...}</c>).</summary>
public sealed record E2BRunResult(string SandboxId, string Stdout, string Stderr, int? ExitCode, JsonArray Results, E2BExecutionError? Error,
    string? ProcessError, JsonObject Files)
{
    /// <summary>The step's output: <c>{"sandbox_id", "stdout", "stderr", "exit_code", "results", "error", "files"}</c>.</summary>
    public JsonObject ToJson() => new()
    {
        ["sandbox_id"] = SandboxId,
        ["stdout"] = Stdout,
        ["stderr"] = Stderr,
        ["exit_code"] = ExitCode,
        ["results"] = Results.DeepClone(),
        ["error"] = Error is null ? null : new JsonObject { ["name"] = Error.Name, ["value"] = Error.Value, ["traceback"] = Error.Traceback },
        ["files"] = Files.DeepClone(),
    };
}

/// <summary>Code raised, or a command exited non-zero, in a run that does not allow errors.</summary>
public sealed class E2BRunFailedException(string message, E2BRunResult result) : Exception(message)
{
    /// <summary>What the run produced, error included.</summary>
    public E2BRunResult Result { get; } = result;
}

public sealed partial class E2BClient
{
    /// <summary>
    /// One tool call: creates a sandbox, writes the files, runs the code or command, reads the files back, and kills
    /// the sandbox whether the run succeeded, failed, was cancelled or hit its timeout. It is one
    /// <c>execute_tool e2b.run_code</c> (or <c>e2b.run_command</c>) span with the sandbox's create and kill spans under
    /// it; the code and the output are recorded as the capture policy allows, with the key and token redacted.
    /// </summary>
    public async Task<E2BRunResult> RunAsync(E2BRunRequest run, CapturePolicy capture, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(run);
        if (run.Problems() is { Count: > 0 } problems) throw new ArgumentException(string.Join(" ", problems));
        capture = capture.WithSecrets([Options.ApiKey]);

        using var span = StartToolSpan(run, capture);
        E2BSandbox? sandbox = null;
        try
        {
            sandbox = await CreateSandboxAsync(run.EffectiveTemplate, run.SandboxLifetime, cancellation).ConfigureAwait(false);
            span?.SetTag(TelemetryNames.E2B.SandboxId, sandbox.Id);
            capture = capture.WithSecrets(sandbox.Secrets);
            foreach (var file in run.Files) await sandbox.WriteFileAsync(file.Path, Encoding.UTF8.GetBytes(file.Content), cancellation).ConfigureAwait(false);

            E2BRunResult result;
            if (run.IsCode)
            {
                var code = await sandbox.RunCodeAsync(run.Code!, run.Language, run.Envs, run.Timeout, cancellation).ConfigureAwait(false);
                result = new E2BRunResult(sandbox.Id, code.Stdout, code.Stderr, null, code.Results, code.Error, null, []);
            }
            else
            {
                var command = await sandbox.RunCommandAsync(run.Command!, run.Cwd, run.Envs, run.Timeout, cancellation).ConfigureAwait(false);
                result = new E2BRunResult(sandbox.Id, command.Stdout, command.Stderr, command.ExitCode, [], null, command.Error, []);
                span?.SetTag(TelemetryNames.E2B.ExitCode, command.ExitCode);
            }
            foreach (var path in run.Download)
            {
                var bytes = await sandbox.ReadFileAsync(path, cancellation).ConfigureAwait(false);
                result.Files[path] = AsText(bytes);
            }
            if (span is { IsAllDataRequested: true } && capture.Apply(result.ToJson().ToJsonString()) is { } recorded)
                span.SetTag(TelemetryNames.Tools.ToolCallResult, recorded);
            if (!run.AllowErrors && Failure(result) is { } failure)
            {
                span?.SetTag(TelemetryNames.E2B.ErrorName, result.Error?.Name ?? "exit_code");
                throw new E2BRunFailedException(capture.Redact(failure), result);
            }
            return result;
        }
        catch (Exception error)
        {
            if (span is not null)
            {
                var message = capture.Redact(error.Message);
                span.SetStatus(ActivityStatusCode.Error, message);
                span.SetTag(TelemetryNames.Database.ErrorType, error.GetType().FullName);
                span.AddEvent(new ActivityEvent("exception", tags: new ActivityTagsCollection
                {
                    ["exception.type"] = error.GetType().FullName,
                    ["exception.message"] = message,
                }));
            }
            throw;
        }
        finally
        {
            if (sandbox is not null)
            {
                try
                {
                    await sandbox.DisposeAsync().ConfigureAwait(false);
                }
                catch (Exception killError)
                {
                    // The run's own outcome stands; the failed kill is on the kill span, and E2B ends the sandbox at its lifetime.
                    span?.AddEvent(new ActivityEvent("e2b.sandbox.kill_failed", tags: new ActivityTagsCollection
                    {
                        ["exception.message"] = capture.Redact(killError.Message),
                    }));
                }
                span?.SetTag(TelemetryNames.E2B.Killed, sandbox.Killed);
            }
        }
    }

    private static Activity? StartToolSpan(E2BRunRequest run, CapturePolicy capture)
    {
        var source = TtaInstrumentation.ActivitySource;
        if (!source.HasListeners()) return null;
        var span = source.StartActivity(TelemetryNames.Tools.ExecuteToolOperation + " " + run.ToolName, ActivityKind.Internal);
        if (span is not { IsAllDataRequested: true }) return span;
        span.SetTag(TelemetryNames.GenAi.OperationName, TelemetryNames.Tools.ExecuteToolOperation);
        span.SetTag(TelemetryNames.Tools.ToolName, run.ToolName);
        span.SetTag(TelemetryNames.Tools.ToolType, TelemetryNames.Tools.ExtensionType);
        span.SetTag(TelemetryNames.E2B.TemplateId, run.EffectiveTemplate);
        if (run.IsCode) span.SetTag(TelemetryNames.E2B.Language, run.Language ?? "python");
        var arguments = run.IsCode
            ? new JsonObject { ["code"] = run.Code, ["language"] = run.Language ?? "python" }
            : new JsonObject { ["command"] = run.Command, ["cwd"] = run.Cwd };
        if (capture.Apply(arguments.ToJsonString()) is { } recorded) span.SetTag(TelemetryNames.Tools.ToolCallArguments, recorded);
        return span;
    }

    private static string? Failure(E2BRunResult result)
    {
        if (result.Error is { } error)
            return $"The code in E2B sandbox '{result.SandboxId}' raised {error.Name}: {HttpBodies.Snippet(error.Value)}";
        if (result.ProcessError is { } processError)
            return $"The command in E2B sandbox '{result.SandboxId}' could not run: {HttpBodies.Snippet(processError)}";
        if (result.ExitCode is { } code and not 0)
            return $"The command in E2B sandbox '{result.SandboxId}' exited with {code}: {HttpBodies.Snippet(Tail(result.Stderr))}";
        return null;
    }

    private static string Tail(string text) => text.Length > 300 ? "..." + text[^300..] : text;

    private static JsonNode AsText(byte[] bytes)
    {
        try
        {
            return JsonValue.Create(new UTF8Encoding(false, true).GetString(bytes));
        }
        catch (DecoderFallbackException)
        {
            return new JsonObject { ["base64"] = Convert.ToBase64String(bytes) };
        }
    }
}
