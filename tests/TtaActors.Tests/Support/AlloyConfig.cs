using System.Globalization;
using System.Text;

namespace TtaActors.Tests.Support;

/// <summary>
/// A reader for Grafana Alloy's configuration syntax (blocks, attributes, strings, numbers, booleans, lists, objects,
/// function calls and component references), written from Alloy's syntax reference because the alloy binary is not on
/// the test machine. It refuses what Alloy refuses structurally (unbalanced blocks, a missing '=', an unterminated
/// string) and reports every reference to a component the file does not declare.
/// </summary>
public sealed class AlloyConfig
{
    public abstract record Value;
    public sealed record Text(string Content) : Value;
    public sealed record Number(double Content) : Value;
    public sealed record Bool(bool Content) : Value;
    public sealed record ListValue(IReadOnlyList<Value> Items) : Value;
    public sealed record ObjectValue(IReadOnlyList<KeyValuePair<string, Value>> Fields) : Value;
    public sealed record Reference(string Path) : Value;
    public sealed record Call(string Function, IReadOnlyList<Value> Arguments) : Value;

    public sealed record Block(string Name, string? Label, IReadOnlyList<KeyValuePair<string, Value>> Attributes, IReadOnlyList<Block> Blocks, int Line)
    {
        public Value? Attribute(string name) => Attributes.FirstOrDefault(a => a.Key == name).Value;
        public string? TextOf(string name) => (Attribute(name) as Text)?.Content;
        public IEnumerable<Block> BlocksNamed(string name) => Blocks.Where(b => b.Name == name);
    }

    private readonly string _source;
    private readonly string _file;
    private int _at;

    private AlloyConfig(string source, string file)
    {
        _source = source;
        _file = file;
        Components = ParseBody(topLevel: true).Blocks;
    }

    /// <summary>The top-level blocks (components) in file order.</summary>
    public IReadOnlyList<Block> Components { get; }

    public static AlloyConfig Load(string path) => new(File.ReadAllText(path), path);

    public static AlloyConfig Parse(string source) => new(source, "config");

    public Block Component(string name, string label) =>
        Components.SingleOrDefault(c => c.Name == name && c.Label == label)
        ?? throw new InvalidOperationException($"{_file}: no component {name} \"{label}\".");

    /// <summary>References (<c>loki.write.default.receiver</c>) naming no declared component, with their line.</summary>
    public IReadOnlyList<string> UnresolvedReferences()
    {
        var declared = Components.Where(c => c.Label is not null).Select(c => $"{c.Name}.{c.Label}.").ToList();
        var problems = new List<string>();
        foreach (var component in Components)
            foreach (var reference in References(component))
                if (!declared.Any(prefix => reference.StartsWith(prefix, StringComparison.Ordinal) && reference.IndexOf('.', prefix.Length) < 0))
                    problems.Add($"{_file}:{component.Line}: {component.Name} \"{component.Label}\" refers to '{reference}', which no component declares.");
        return problems;
    }

    private static IEnumerable<string> References(Block block) =>
        block.Attributes.SelectMany(a => References(a.Value)).Concat(block.Blocks.SelectMany(References));

    private static IEnumerable<string> References(Value value) => value switch
    {
        Reference r => [r.Path],
        ListValue l => l.Items.SelectMany(References),
        ObjectValue o => o.Fields.SelectMany(f => References(f.Value)),
        Call c => c.Arguments.SelectMany(References),
        _ => [],
    };

    private (List<KeyValuePair<string, Value>> Attributes, List<Block> Blocks) ParseBody(bool topLevel)
    {
        var attributes = new List<KeyValuePair<string, Value>>();
        var blocks = new List<Block>();
        while (true)
        {
            Skip();
            if (_at >= _source.Length)
            {
                if (topLevel) return (attributes, blocks);
                throw Error("the file ends inside a block (a '}' is missing)");
            }
            if (_source[_at] == '}')
            {
                if (topLevel) throw Error("'}' without a block to close");
                _at++;
                return (attributes, blocks);
            }
            var line = LineAt(_at);
            var name = DottedIdentifier();
            Skip();
            if (Peek('='))
            {
                if (name.Contains('.')) throw Error($"attribute name '{name}' may not contain '.'");
                _at++;
                if (attributes.Any(a => a.Key == name)) throw Error($"attribute '{name}' is set twice");
                attributes.Add(new(name, ParseValue()));
                continue;
            }
            string? label = null;
            if (Peek('"')) label = ParseString();
            Skip();
            Expect('{');
            var (innerAttributes, innerBlocks) = ParseBody(topLevel: false);
            if (topLevel && label is null) throw new FormatException($"{_file}:{line}: component '{name}' needs a label (\"name\").");
            if (topLevel && blocks.Any(b => b.Name == name && b.Label == label))
                throw new FormatException($"{_file}:{line}: component {name} \"{label}\" is declared twice.");
            blocks.Add(new Block(name, label, innerAttributes, innerBlocks, line));
        }
    }

    private Value ParseValue()
    {
        Skip();
        if (_at >= _source.Length) throw Error("a value is missing");
        var c = _source[_at];
        if (c == '"') return new Text(ParseString());
        if (c == '[')
        {
            _at++;
            var items = new List<Value>();
            while (true)
            {
                Skip();
                if (Peek(']')) { _at++; return new ListValue(items); }
                items.Add(ParseValue());
                Skip();
                if (Peek(',')) { _at++; continue; }
                Skip();
                Expect(']');
                return new ListValue(items);
            }
        }
        if (c == '{')
        {
            _at++;
            var fields = new List<KeyValuePair<string, Value>>();
            while (true)
            {
                Skip();
                if (Peek('}')) { _at++; return new ObjectValue(fields); }
                var key = Peek('"') ? ParseString() : DottedIdentifier();
                Skip();
                Expect('=');
                fields.Add(new(key, ParseValue()));
                Skip();
                if (Peek(',')) { _at++; continue; }
                Skip();
                Expect('}');
                return new ObjectValue(fields);
            }
        }
        if (char.IsDigit(c) || c == '-')
        {
            var start = _at++;
            while (_at < _source.Length && (char.IsDigit(_source[_at]) || _source[_at] is '.' or 'e' or 'E')) _at++;
            return new Number(double.Parse(_source[start.._at], CultureInfo.InvariantCulture));
        }
        var path = DottedIdentifier();
        if (path is "true" or "false") return new Bool(path == "true");
        if (path == "null") return new Text("");
        Skip();
        if (!Peek('(')) return new Reference(path);
        _at++;
        var arguments = new List<Value>();
        while (true)
        {
            Skip();
            if (Peek(')')) { _at++; return new Call(path, arguments); }
            arguments.Add(ParseValue());
            Skip();
            if (Peek(',')) { _at++; continue; }
            Skip();
            Expect(')');
            return new Call(path, arguments);
        }
    }

    private string ParseString()
    {
        Expect('"');
        var text = new StringBuilder();
        while (true)
        {
            if (_at >= _source.Length || _source[_at] == '\n') throw Error("unterminated string");
            var c = _source[_at++];
            if (c == '"') return text.ToString();
            if (c != '\\') { text.Append(c); continue; }
            if (_at >= _source.Length) throw Error("unterminated string");
            var escaped = _source[_at++];
            text.Append(escaped switch
            {
                'n' => '\n',
                't' => '\t',
                'r' => '\r',
                '\\' => '\\',
                '"' => '"',
                _ => throw Error($"unknown escape '\\{escaped}' in a string"),
            });
        }
    }

    private string DottedIdentifier()
    {
        var start = _at;
        while (_at < _source.Length && (char.IsLetterOrDigit(_source[_at]) || _source[_at] is '_' or '.')) _at++;
        if (_at == start) throw Error($"unexpected '{_source[_at]}'");
        var name = _source[start.._at];
        if (char.IsDigit(name[0]) || name.StartsWith('.') || name.EndsWith('.') || name.Contains(".."))
            throw Error($"'{name}' is not a valid name");
        return name;
    }

    private void Skip()
    {
        while (_at < _source.Length)
        {
            if (char.IsWhiteSpace(_source[_at])) { _at++; continue; }
            if (_source.AsSpan(_at).StartsWith("//"))
            {
                while (_at < _source.Length && _source[_at] != '\n') _at++;
                continue;
            }
            if (_source.AsSpan(_at).StartsWith("/*"))
            {
                var end = _source.IndexOf("*/", _at + 2, StringComparison.Ordinal);
                if (end < 0) throw Error("unterminated comment");
                _at = end + 2;
                continue;
            }
            return;
        }
    }

    private bool Peek(char c) => _at < _source.Length && _source[_at] == c;

    private void Expect(char c)
    {
        if (!Peek(c)) throw Error(_at < _source.Length ? $"expected '{c}', found '{_source[_at]}'" : $"expected '{c}' at the end of the file");
        _at++;
    }

    private int LineAt(int offset) => _source.AsSpan(0, Math.Min(offset, _source.Length)).Count('\n') + 1;

    private FormatException Error(string problem) => new($"{_file}:{LineAt(_at)}: {problem}.");
}
