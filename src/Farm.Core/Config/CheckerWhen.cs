namespace Farm.Core.Config;

/// <summary>When a checker runs (<c>when</c>).</summary>
public enum CheckerWhen
{
    /// <summary><c>always</c>: while the module runs.</summary>
    Always,

    /// <summary><c>before_start</c>: only as a precondition before the module starts (e.g. an interface or a dependency must be up).</summary>
    BeforeStart,
}
