using System.Text.RegularExpressions;

namespace TtaActors.Actors.Sessions;

/// <summary>
/// The shape of persona and chat mode names (<c>backend-engineer</c>, <c>feature-implementation</c>): they become span
/// attributes, metric labels and Langfuse users, so they are kept to lower-case words joined by hyphens.
/// </summary>
public static partial class PersonaNames
{
    /// <summary>The longest persona or chat mode name.</summary>
    public const int MaxLength = 64;

    [GeneratedRegex("^[a-z][a-z0-9]*(-[a-z0-9]+)*$", RegexOptions.CultureInvariant)]
    private static partial Regex Shape();

    /// <summary>Null when <paramref name="name"/> is well formed, else what is wrong with it.</summary>
    public static string? Problem(string kind, string? name)
    {
        if (string.IsNullOrEmpty(name)) return $"The {kind} name is empty; give one such as 'backend-engineer'.";
        if (name.Length > MaxLength) return $"The {kind} name '{Printable(name[..20])}...' is {name.Length} characters long; at most {MaxLength} are allowed.";
        if (!Shape().IsMatch(name))
            return $"The {kind} name '{Printable(name)}' is malformed: use lower-case letters and digits in words joined by single hyphens, " +
                   "starting with a letter (for example 'backend-engineer' or 'feature-implementation').";
        return null;
    }

    /// <summary>The longest session id.</summary>
    public const int MaxSessionIdLength = 128;

    /// <summary>
    /// A caller's text as it can be shown in a message, a log line or a terminal: control characters, quotes and
    /// everything beyond printable ASCII are written as <c>\uXXXX</c>, so a name cannot forge lines or escape sequences.
    /// </summary>
    public static string Printable(string text)
    {
        var shown = new System.Text.StringBuilder(text.Length);
        foreach (var c in text)
        {
            if (c is >= ' ' and <= '~' and not '\'' and not '\\') shown.Append(c);
            else shown.Append("\\u").Append(((int)c).ToString("x4", System.Globalization.CultureInfo.InvariantCulture));
        }
        return shown.ToString();
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._:-]*$", RegexOptions.CultureInvariant)]
    private static partial Regex SessionIdShape();

    /// <summary>Null when <paramref name="sessionId"/> can name a session, else what is wrong with it.</summary>
    public static string? SessionIdProblem(string? sessionId)
    {
        if (string.IsNullOrEmpty(sessionId)) return "The session id is empty.";
        if (sessionId.Length > MaxSessionIdLength) return $"The session id is {sessionId.Length} characters long; at most {MaxSessionIdLength} are allowed.";
        return SessionIdShape().IsMatch(sessionId)
            ? null
            : $"The session id '{Printable(sessionId)}' is malformed: use letters, digits, '.', '_', ':' and '-', starting with a letter or digit.";
    }
}
