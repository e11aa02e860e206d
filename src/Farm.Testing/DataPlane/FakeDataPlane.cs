using Farm.Core.Config;
using Farm.DataPlane.Runtime;
using Farm.DataPlane.Filtering;

namespace Farm.Testing.DataPlane;

/// <summary>A data plane backend whose modules are <see cref="FakeModuleDataPlane"/>s.</summary>
public sealed class FakeBackend : IDataPlaneBackend
{
    /// <summary>The module the data plane tests run: "web", one VIP, two buckets, TCP 80.</summary>
    public static ModuleConfig Web() => new()
    {
        Name = "web",
        Vips = [System.Net.IPAddress.Parse("198.18.100.1")],
        Interface = "eth0",
        Buckets = 2,
        Rules = [new PortRuleConfig { FirstPort = 80, LastPort = 80 }],
    };

    public List<FakeModuleDataPlane> Planes { get; } = [];

    /// <summary>Runs in each plane's start, with the module's name (e.g. to hold it: a slow nft or ip).</summary>
    public Action<string>? OnStart { get; set; }

    public string? MissingPrerequisite() => null;

    public IReadOnlyList<string> RemoveLeftovers() => [];

    public IModuleDataPlane Create(ModuleConfig module)
    {
        var plane = new FakeModuleDataPlane(module.Name) { OnStart = OnStart };
        Planes.Add(plane);
        return plane;
    }
}

/// <summary>
/// Records what reached the "kernel"; applies and lease refreshes fail on demand, as a refused nft batch does (a
/// reinstall fails while applies do: the same kernel refuses both).
/// </summary>
public sealed class FakeModuleDataPlane(string module) : IModuleDataPlane
{
    public string Module { get; } = module;

    public bool FailApplies { get; set; }

    public bool FailLeases { get; set; }

    public List<BucketAssignment> Applies { get; } = [];

    /// <summary>How many times the filter was built afresh after a refusal.</summary>
    public int Reinstalls { get; private set; }

    public List<TimeSpan> Leases { get; } = [];

    public bool Started { get; private set; }

    public bool Stopped { get; private set; }

    public bool Disposed { get; private set; }

    /// <summary>Runs at the start, before it is recorded.</summary>
    public Action<string>? OnStart { get; init; }

    public void Start()
    {
        OnStart?.Invoke(Module);
        Started = true;
    }

    public void Reinstall()
    {
        if (FailApplies)
        {
            throw new InvalidOperationException("nft: Error: Could not process rule: Operation not permitted");
        }

        Reinstalls++;
    }

    /// <summary>Runs at each apply, before it is recorded (e.g. to move a fake clock: a slow kernel).</summary>
    public Action? OnApply { get; set; }

    public void Apply(BucketAssignment assignment)
    {
        OnApply?.Invoke();
        if (FailApplies)
        {
            throw new InvalidOperationException("nft: Error: Could not process rule: No buffer space available");
        }

        Applies.Add(assignment);
    }

    public void RefreshLease(TimeSpan duration)
    {
        // As the real filter: nft timeouts count whole milliseconds (NftRuleset.MinLease).
        ArgumentOutOfRangeException.ThrowIfLessThan(duration, TimeSpan.FromMilliseconds(1));
        if (FailLeases)
        {
            throw new InvalidOperationException("nft: Error: Could not process rule: No buffer space available");
        }

        Leases.Add(duration);
    }

    public void Stop() => Stopped = true;

    public void Dispose() => Disposed = true;
}
