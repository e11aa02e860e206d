using System.Runtime.InteropServices;
using Farm.Core.Scheduling;

namespace Farm.Native.Linux;

/// <summary>
/// Raises the calling thread to SCHED_RR (sched(7)): it then runs ahead of every ordinary thread on the machine, so a
/// busy partner application cannot delay it by whole scheduler slices. Needs CAP_SYS_NICE (root has it) or an
/// RLIMIT_RTPRIO; the kernel's real-time throttling (sched_rt_runtime_us) still keeps 5% of each core for the rest.
/// </summary>
public sealed class RealtimeThread : IThreadPriority
{
    /// <inheritdoc />
    public unsafe string? TryRaiseCurrentThread(int priority)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(priority, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(priority, 99);
        if (!OperatingSystem.IsLinux())
        {
            return "real-time scheduling is only implemented on Linux";
        }

        int value = priority;
        if (LibC.SetScheduler(0, LibC.SchedRoundRobin, &value) == 0)
        {
            return null;
        }

        int errno = Marshal.GetLastPInvokeError();
        return errno == 1 // EPERM
            ? "sched_setscheduler(SCHED_RR) was refused (EPERM): run farmd as root or give it CAP_SYS_NICE or LimitRTPRIO"
            : $"sched_setscheduler(SCHED_RR) failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})";
    }
}
