using Farm.Core.Scheduling;
using Farm.Native.Linux;

namespace Farm.Testing.Processes;

/// <summary>
/// This process's threads (load generators, the nodes' apps, clients) at farmd's nice value until disposed, then back
/// where they were. In a real farm the clients run on other machines and each node's app has its node's cores; here three
/// farmd share two cores with all of them, and farmd runs at nice -10: without this, the CPU burst of a farmd that starts
/// or changes its view starves the harness, which then records answers and stalls late that no real client would see.
/// </summary>
public sealed class HarnessPriority : IDisposable
{
    private readonly int before;

    private HarnessPriority(int before) => this.before = before;

    /// <summary>Raises this process to <see cref="FarmdPriority.Nice"/>.</summary>
    /// <exception cref="InvalidOperationException">The priority could not be raised (not root).</exception>
    public static HarnessPriority AtFarmdPriority()
    {
        var nice = new ProcessNice();
        if (nice.TryRaiseProcess(FarmdPriority.Nice) is { } refused)
        {
            throw new InvalidOperationException($"the harness needs root to run at farmd's priority: {refused}");
        }

        return new HarnessPriority(FarmdPriority.Nice + nice.ChildAdjustment);
    }

    /// <inheritdoc />
    public void Dispose() => new ProcessNice().TryRaiseProcess(before);
}
