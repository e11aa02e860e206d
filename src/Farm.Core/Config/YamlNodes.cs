namespace Farm.Core.Config;

/// <summary>A YAML node with the 1-based position where it starts; the binders report errors there.</summary>
internal abstract class YamlNodeBase(int line, int column)
{
    public int Line { get; } = line;

    public int Column { get; } = column;

    /// <summary>How many nodes this one stands for, itself and everything below it with aliases expanded (for <see cref="ConfigLimits.MaxNodes"/>).</summary>
    public int Size { get; set; } = 1;

    /// <summary>"a string", "a mapping", "a list": used in wrong-type messages.</summary>
    public abstract string Describe();
}

/// <summary>A scalar; <see cref="IsPlain"/> tells an unquoted token (which may be a number, bool or null) from a quoted string.</summary>
internal sealed class YamlScalarNode(int line, int column, string value, bool isPlain) : YamlNodeBase(line, column)
{
    public string Value { get; } = value;

    public bool IsPlain { get; } = isPlain;

    /// <summary>YAML 1.2 core-schema null: an empty plain value, <c>~</c> or <c>null</c>.</summary>
    public bool IsNull => IsPlain && Value is "" or "~" or "null" or "Null" or "NULL";

    public override string Describe() => IsNull ? "nothing (null)" : IsPlain ? $"'{Value}'" : $"the string \"{Value}\"";
}

/// <summary>A mapping whose entries keep file order and duplicates (the binders report duplicates instead of the parser throwing).</summary>
internal sealed class YamlMapNode(int line, int column) : YamlNodeBase(line, column)
{
    public List<KeyValuePair<YamlScalarNode, YamlNodeBase>> Entries { get; } = [];

    public override string Describe() => "a mapping";
}

/// <summary>A sequence (YAML list).</summary>
internal sealed class YamlListNode(int line, int column) : YamlNodeBase(line, column)
{
    public List<YamlNodeBase> Items { get; } = [];

    public override string Describe() => "a list";
}
