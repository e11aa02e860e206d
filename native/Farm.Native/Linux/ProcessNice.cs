using System.Globalization;
using System.Runtime.InteropServices;
using Farm.Core.Scheduling;

namespace Farm.Native.Linux;

/// <summary>
/// Sets the nice value of every thread of this process (setpriority(2) on each task of <c>/proc/self/task</c>: on Linux
/// the nice value belongs to a thread, and a new thread inherits its creator's). Lowering it needs CAP_SYS_NICE (root
/// has it) or an RLIMIT_NICE.
/// </summary>
public sealed class ProcessNice : IProcessPriority
{
    private const string Tasks = "/proc/self/task";

    /// <inheritdoc />
    public int ChildAdjustment { get; private set; }

    /// <inheritdoc />
    public string? TryRaiseProcess(int nice)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(nice, -20);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(nice, 19);
        if (!OperatingSystem.IsLinux())
        {
            return "process priority is only implemented on Linux";
        }

        int before = LibC.GetPriority(LibC.PriorityProcess, 0);
        int error = before == -1 ? Marshal.GetLastPInvokeError() : 0;
        if (error != 0)
        {
            return Failure("getpriority", error);
        }

        // Twice: a thread created while the first pass ran may have inherited the old value from a thread not yet set.
        for (int pass = 0; pass < 2; pass++)
        {
            foreach (string task in Directory.EnumerateDirectories(Tasks))
            {
                if (!int.TryParse(Path.GetFileName(task), NumberStyles.None, CultureInfo.InvariantCulture, out int tid))
                {
                    continue;
                }

                if (LibC.SetPriority(LibC.PriorityProcess, tid, nice) != 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno == LibC.NoSuchProcess)
                    {
                        continue; // the thread ended meanwhile
                    }

                    return Failure("setpriority", errno);
                }
            }
        }

        ChildAdjustment = before - nice;
        return null;
    }

    private static string Failure(string call, int errno) => errno is 1 or 13 // EPERM, EACCES
        ? $"{call} was refused ({(errno == 1 ? "EPERM" : "EACCES")}): run farmd as root or give it CAP_SYS_NICE or LimitNICE"
        : $"{call} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})";
}
