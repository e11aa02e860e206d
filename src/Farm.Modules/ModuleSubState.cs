namespace Farm.Modules;

/// <summary>Refines <see cref="ModuleState"/>: whether the state is settled and, if so, healthy.</summary>
public enum ModuleSubState
{
    /// <summary>Settled but blocked: STOP after a failure (needs an admin start), or WAIT for a checker that is down.</summary>
    NotReady,

    /// <summary>Scripts or a traffic hand-over are in progress towards the next state.</summary>
    Transient,

    /// <summary>Settled as intended: STOP by an admin, or UP and serving traffic.</summary>
    Ready,
}
