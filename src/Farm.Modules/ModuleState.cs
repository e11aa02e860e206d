namespace Farm.Modules;

/// <summary>The state of a module on one node, as SafeKit names them.</summary>
public enum ModuleState
{
    /// <summary>The application is not running here (stopped by an admin, or after a failure).</summary>
    Stop,

    /// <summary>The module is starting, or waits for a checker or a precondition; it serves no traffic.</summary>
    Wait,

    /// <summary>The application runs and passes its checkers; in Ready it serves its share of the traffic.</summary>
    Up,
}
