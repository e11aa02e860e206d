using System.Runtime.InteropServices;

namespace Farm.Native.Linux;

/// <summary>libc scheduling entry points.</summary>
internal static partial class LibC
{
    /// <summary>SCHED_RR: real-time round robin (sched(7)).</summary>
    internal const int SchedRoundRobin = 2;

    /// <summary>sched_setscheduler(2) with pid 0: the calling thread only (Linux schedules threads, not processes).</summary>
    [LibraryImport(Library, EntryPoint = "sched_setscheduler", SetLastError = true)]
    internal static unsafe partial int SetScheduler(int pid, int policy, int* priority);
}
