using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Farm.Rpc.Server;

/// <summary>Maps RPC handlers onto ASP.NET Core endpoint routing (POST <c>/package.Service/Method</c>).</summary>
public static class RpcEndpointRouteBuilderExtensions
{
    // One catch-all per route builder: a second identical pattern would make routing ambiguous.
    private static readonly ConditionalWeakTable<IEndpointRouteBuilder, object> UnknownMethodRouteMapped = [];

    /// <summary>
    /// Maps every method registered in <paramref name="configure"/>, plus (once per route builder) a
    /// <c>/{service}/{method}</c> route that answers UNIMPLEMENTED for gRPC requests to unknown methods.
    /// Options come from <see cref="IOptions{RpcServerOptions}"/>, time from a registered <see cref="TimeProvider"/>.
    /// </summary>
    /// <returns>A builder whose conventions (authorization, host filters, ...) apply to the mapped methods.</returns>
    public static IEndpointConventionBuilder MapRpcService(this IEndpointRouteBuilder endpoints, Action<RpcServiceBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(configure);

        var builder = new RpcServiceBuilder();
        configure(builder);

        IServiceProvider services = endpoints.ServiceProvider;
        var options = services.GetService<IOptions<RpcServerOptions>>()?.Value ?? new RpcServerOptions();
        var timeProvider = services.GetService<TimeProvider>() ?? TimeProvider.System;
        var loggerFactory = services.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance;
        var handler = new RpcRequestHandler(options, timeProvider, loggerFactory.CreateLogger("Farm.Rpc.Server"));

        var mapped = new List<IEndpointConventionBuilder>();
        foreach (ServerMethod method in builder.Methods)
        {
            mapped.Add(endpoints
                .MapPost(method.FullName, http => handler.HandleAsync(http, method))
                .WithDisplayName("gRPC " + method.FullName));
        }

        if (UnknownMethodRouteMapped.TryAdd(endpoints, new object()))
        {
            // Literal segments outrank parameters in routing, so registered methods always win over this route.
            endpoints.MapPost("/{service}/{method}", handler.HandleUnknownAsync).WithDisplayName("gRPC unimplemented");
        }

        return new CompositeConventionBuilder(mapped);
    }

    private sealed class CompositeConventionBuilder(List<IEndpointConventionBuilder> builders) : IEndpointConventionBuilder
    {
        public void Add(Action<EndpointBuilder> convention)
        {
            foreach (var builder in builders)
            {
                builder.Add(convention);
            }
        }

        public void Finally(Action<EndpointBuilder> finallyConvention)
        {
            foreach (var builder in builders)
            {
                builder.Finally(finallyConvention);
            }
        }
    }
}
