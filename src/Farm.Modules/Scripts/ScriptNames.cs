namespace Farm.Modules.Scripts;

/// <summary>The scripts a module may ship in <c>bin/</c>; each start script has a stop counterpart that undoes it.</summary>
internal static class ScriptNames
{
    public const string Prestart = "prestart";
    public const string StartBoth = "start_both";
    public const string StartPrim = "start_prim";
    public const string StopPrim = "stop_prim";
    public const string StopBoth = "stop_both";
    public const string Poststop = "poststop";
}
