using System.Runtime.Versioning;
using Farm.Core.Config;
using Farm.DataPlane.Addressing;
using Farm.DataPlane.Filtering;
using Farm.DataPlane.Neighbors;
using Microsoft.Extensions.Logging;

namespace Farm.DataPlane.Runtime;

/// <summary>
/// One module on the real kernel: nftables filter, VIP manager and ARP/NDP responder, in the network namespace farmd
/// runs in. Start order filter → VIPs → responder (the filter first, so the VIP never accepts unfiltered traffic);
/// stop order reversed.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class KernelModuleDataPlane(ModuleConfig module, string stateDirectory, TimeProvider timeProvider, ILoggerFactory loggerFactory) : IModuleDataPlane
{
    private NftablesPacketFilter? filter;
    private VipManager? vips;
    private NeighborResponder? responder;

    public string Module => module.Name;

    public void Start()
    {
        try
        {
            filter = new NftablesPacketFilter(loggerFactory.CreateLogger<NftablesPacketFilter>(), timeProvider);
            filter.Install(module);
            vips = new VipManager(stateDirectory, loggerFactory.CreateLogger<VipManager>());
            vips.Start(module);
            responder = NeighborResponder.Open(module, timeProvider, loggerFactory.CreateLogger<NeighborResponder>());
            responder.Start();
        }
        catch
        {
            // Half started is worse than not started: take down what came up, then report the original failure.
            try
            {
                Stop();
            }
            catch (AggregateException)
            {
                // Stop logged through the parts' own loggers; the start failure is what the caller must see.
            }

            throw;
        }
    }

    public void Reinstall() => Filter.Install(module);

    public void Apply(BucketAssignment assignment) => Filter.Apply(assignment);

    public void RefreshLease(TimeSpan duration) => Filter.RefreshLease(duration);

    public FilterCounters ReadCounters() => Filter.ReadCounters();

    public void Stop()
    {
        var failures = new List<Exception>();
        Try(() => responder?.Dispose());
        responder = null;
        Try(() => vips?.Stop());
        vips = null;
        Try(() => filter?.Dispose()); // Dispose removes the tables, then releases libnftables
        filter = null;
        if (failures.Count > 0)
        {
            throw new AggregateException($"Module {module.Name}: the data plane did not stop cleanly.", failures);
        }

        void Try(Action step)
        {
            try
            {
                step();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                failures.Add(e);
            }
        }
    }

    public void Dispose() => Stop();

    private NftablesPacketFilter Filter => filter ?? throw new InvalidOperationException($"The data plane of module {module.Name} is not running.");
}
