namespace TtaActors.Runtime.Node;

/// <summary>
/// The structural checks Akka.NET's HOCON parser leaves out: it reads <c>bad = [1, 2</c> or <c>akka.loglevel = {</c>
/// to the end of the text without complaint, and the key silently gets a truncated value or none. This scanner
/// follows strings, comments, brackets and braces and names the line and column of the first problem.
/// </summary>
public static class HoconSyntax
{
    /// <summary>Null when the brackets, braces and strings of <paramref name="text"/> are well formed, else the problem with its line and column.</summary>
    public static string? Problem(string text)
    {
        var open = new Stack<(char Bracket, int Line, int Column)>();
        int line = 1, column = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            column++;
            if (c == '\n')
            {
                line++;
                column = 0;
                continue;
            }
            if (c == '#' || (c == '/' && At(text, i + 1) == '/'))
            {
                while (i + 1 < text.Length && text[i + 1] != '\n') i++;
                continue;
            }
            if (c == '"')
            {
                var (startLine, startColumn) = (line, column);
                if (At(text, i + 1) == '"' && At(text, i + 2) == '"')
                {
                    var end = text.IndexOf("\"\"\"", i + 3, StringComparison.Ordinal);
                    if (end < 0) return $"line {startLine}, column {startColumn}: the \"\"\" string opened here is never closed.";
                    for (var j = i; j < end + 3; j++)
                    {
                        if (text[j] == '\n') { line++; column = 0; }
                        else column++;
                    }
                    column--;
                    i = end + 2;
                    continue;
                }
                i++;
                while (i < text.Length && text[i] != '"' && text[i] != '\n')
                {
                    if (text[i] == '\\') { i++; column++; }
                    i++;
                    column++;
                }
                if (i >= text.Length || text[i] == '\n')
                    return $"line {startLine}, column {startColumn}: the quoted string opened here is not closed on its line.";
                column++;
                continue;
            }
            switch (c)
            {
                case '{' or '[':
                    open.Push((c, line, column));
                    break;
                case '}' or ']':
                    var opening = c == '}' ? '{' : '[';
                    if (open.Count == 0) return $"line {line}, column {column}: '{c}' closes nothing (no '{opening}' is open).";
                    var top = open.Pop();
                    if (top.Bracket != opening)
                        return $"line {line}, column {column}: '{c}' does not match the '{top.Bracket}' opened at line {top.Line}, column {top.Column}.";
                    break;
            }
        }
        if (open.Count > 0)
        {
            var unclosed = open.Peek();
            var closing = unclosed.Bracket == '{' ? '}' : ']';
            return $"line {unclosed.Line}, column {unclosed.Column}: the '{unclosed.Bracket}' opened here is never closed (no matching '{closing}' before the end).";
        }
        return null;
    }

    private static char At(string text, int index) => index < text.Length ? text[index] : '\0';
}
