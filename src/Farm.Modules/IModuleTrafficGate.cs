namespace Farm.Modules;

/// <summary>
/// The module manager's port towards membership and the data plane. The daemon implements it by adding the module to,
/// or removing it from, this node's ready modules (<c>MemberInfo.ReadyModules</c>) and by arming the data plane.
/// Calls arrive one at a time, in order.
/// </summary>
public interface IModuleTrafficGate
{
    /// <summary>The epoch of the installed view, passed to scripts as <c>FARM_EPOCH</c>.</summary>
    long Epoch { get; }

    /// <summary>The module is UP/Ready here: join the module's view so this node gets buckets. Should return promptly.</summary>
    Task OpenAsync(string moduleName, string reason, CancellationToken cancellationToken);

    /// <summary>
    /// Leave the module's view and complete once this node accepts no new flows and its peers own its buckets (released
    /// through the membership protocol, so peers do not wait for a detection timeout). stop_both runs only after this.
    /// The manager stops waiting after <c>timeouts.drain</c> plus <see cref="ModuleHostOptions.GateConfirmTimeout"/>.
    /// </summary>
    Task CloseAsync(string moduleName, string reason, CancellationToken cancellationToken);

    /// <summary>
    /// Mode single. True: start_prim succeeded, accept the traffic of the buckets this node owns. False: stop accepting
    /// (stop_prim runs when this completes).
    /// </summary>
    Task SetPrimaryAsync(string moduleName, bool primary, CancellationToken cancellationToken);
}
