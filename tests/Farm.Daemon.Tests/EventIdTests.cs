using System.Reflection;

namespace Farm.Daemon.Tests;

/// <summary>Event ids identify a log line across releases (journald, log queries): one id, one message, over all of src/.</summary>
[TestClass]
public sealed class EventIdTests
{
    [TestMethod]
    public void LoggerMessages_AllFarmAssembliesFarmdLoads_EveryEventIdUsedOnceAndNotZero()
    {
        var methods = FarmAssemblies(typeof(DaemonHost).Assembly)
            .SelectMany(a => a.GetTypes())
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            .Select(m => (Method: m, Attribute: m.GetCustomAttribute<LoggerMessageAttribute>()))
            .Where(m => m.Attribute is not null)
            .Select(m => (Id: m.Attribute!.EventId, Name: $"{m.Method.DeclaringType!.FullName}.{m.Method.Name}"))
            .ToList();

        Assert.IsGreaterThan(90, methods.Count, "the scan finds the messages: " + methods.Count);
        var unnumbered = methods.Where(m => m.Id <= 0).Select(m => m.Name).ToList();
        Assert.IsEmpty(unnumbered, "messages without an event id: " + string.Join(", ", unnumbered));
        var reused = methods.GroupBy(m => m.Id).Where(g => g.Count() > 1).Select(g => $"{g.Key}: {string.Join(", ", g.Select(m => m.Name))}").ToList();
        Assert.IsEmpty(reused, "event ids used twice (docs/architecture.md lists the ranges):\n" + string.Join("\n", reused));
    }

    private static IReadOnlyCollection<Assembly> FarmAssemblies(Assembly root)
    {
        var seen = new Dictionary<string, Assembly>(StringComparer.Ordinal);
        var pending = new Stack<Assembly>([root]);
        while (pending.TryPop(out var assembly))
        {
            if (!seen.TryAdd(assembly.GetName().Name!, assembly))
            {
                continue;
            }

            foreach (var reference in assembly.GetReferencedAssemblies().Where(r => r.Name!.StartsWith("Farm.", StringComparison.Ordinal)))
            {
                pending.Push(Assembly.Load(reference));
            }
        }

        return [.. seen.Values];
    }
}
