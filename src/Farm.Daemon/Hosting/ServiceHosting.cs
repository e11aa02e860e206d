using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;

namespace Farm.Daemon.Hosting;

/// <summary>farmd as an operating system service: systemd on Linux, the service control manager on Windows.</summary>
internal static class ServiceHosting
{
    /// <summary>
    /// Under systemd: the systemd lifetime (SIGTERM stops the host; READY=1 once started, STOPPING=1 on stop). Under the
    /// Windows service control manager: the Windows service lifetime. Both detect their manager and do nothing without
    /// it. The notifier is registered in every case: with <c>$NOTIFY_SOCKET</c> set by something else than systemd
    /// itself, farmd still reports readiness and status (see <see cref="FarmdLifecycle"/>). Idempotent.
    /// </summary>
    public static IServiceCollection AddServiceHosting(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (services.Any(d => d.ServiceType == typeof(Marker)))
        {
            return services;
        }

        services.AddSingleton<Marker>();
        services.AddSystemd();
        services.AddWindowsService(options => options.ServiceName = "farmd");
        if (!OperatingSystem.IsBrowser())
        {
            services.TryAddSingleton<ISystemdNotifier, SystemdNotifier>();
        }

        return services;
    }

    /// <summary>Marks a service collection that has the service hosting already.</summary>
    private sealed class Marker;
}
