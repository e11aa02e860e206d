namespace Farm.Testing.Processes;

/// <summary>
/// The live instances of one kind of test resource (daemons, containers), each cleaned up by <c>kill</c> when the test
/// process exits without having disposed it: a crash or a runner that exits early must not leave them behind.
/// </summary>
internal sealed class ExitSweep<T>(Action<T> kill)
    where T : notnull
{
    private readonly ConcurrentDictionary<T, bool> live = new();
    private int hooked;

    /// <summary>Adds a started instance (the process exit hook is installed with the first).</summary>
    public void Add(T instance)
    {
        if (Interlocked.Exchange(ref hooked, 1) == 0)
        {
            AppDomain.CurrentDomain.ProcessExit += (_, _) =>
            {
                foreach (var left in live.Keys)
                {
                    kill(left);
                }
            };
        }

        live[instance] = true;
    }

    /// <summary>Whether <paramref name="instance"/> was added and not yet removed (started, not yet disposed).</summary>
    public bool Contains(T instance) => live.ContainsKey(instance);

    /// <summary>Forgets an instance once it is disposed; false when it was already forgotten, so only the first dispose goes on.</summary>
    public bool Remove(T instance) => live.TryRemove(instance, out _);
}
