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

    /// <summary>PRIO_PROCESS for getpriority(2)/setpriority(2): with a thread id, that one thread on Linux.</summary>
    internal const int PriorityProcess = 0;

    /// <summary>ESRCH.</summary>
    internal const int NoSuchProcess = 3;

    /// <summary>getpriority(2): the nice value (-20..19); -1 is also a valid value, so check errno (the stub clears it first).</summary>
    [LibraryImport(Library, EntryPoint = "getpriority", SetLastError = true)]
    internal static partial int GetPriority(int which, int who);

    /// <summary>setpriority(2).</summary>
    [LibraryImport(Library, EntryPoint = "setpriority", SetLastError = true)]
    internal static partial int SetPriority(int which, int who, int priority);
}
