using Farm.Core.Hashing;
using Wire = Farm.Protocol.V1;

namespace Farm.Daemon.Admin;

/// <summary>
/// Answers <c>WhoOwns</c>: the bucket of a client under each selected rule (the kernel's hash, with the module's seed
/// and bucket count) and the node the installed view gives it.
/// </summary>
/// <remarks>
/// Rules of one module that share an affinity share the answer (the hash ignores the VIP port), so the answer has one
/// entry per module and affinity. A <c>client_ip_port</c> entry without the client's source port carries an error
/// instead of a bucket: guessing a port would name a node that does not serve the client.
/// </remarks>
internal sealed class OwnerLocator(IReadOnlyList<ModuleConfig> modules, MembershipHost host)
{
    /// <summary>Answers from the view installed now.</summary>
    public Wire.WhoOwnsAnswer Locate(Wire.WhoOwnsQuery query)
    {
        // The view and the ownership snapshot are immutable: take the references under the lock, hash outside it.
        var (self, installed, ownership) = host.Read((m, _) => (m.Self.Name, m.Installed, m.Ownership));
        return Answer(query, modules, self, installed, (module, bucket) =>
            ownership.Modules.TryGetValue(module, out var states) && bucket < states.States.Length ? states[bucket] : BucketState.None);
    }

    /// <summary>
    /// The answer for <paramref name="query"/>; <paramref name="localState"/> gives the answering node's state of a
    /// bucket. Throws <see cref="RpcException"/> (INVALID_ARGUMENT) naming every problem of the query.
    /// </summary>
    public static Wire.WhoOwnsAnswer Answer(
        Wire.WhoOwnsQuery query, IReadOnlyList<ModuleConfig> modules, string self, ClusterView? installed, Func<string, int, BucketState> localState)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(modules);
        ArgumentNullException.ThrowIfNull(localState);
        var errors = new List<string>();
        var client = ParseClient(query, errors);
        var protocol = ParseProtocol(query.Protocol, errors);
        if (query.ServicePort > ushort.MaxValue)
        {
            errors.Add($"port {query.ServicePort} is not a port (1 to 65535)");
        }

        IReadOnlyList<ModuleConfig> selected = modules;
        if (query.Module.Length > 0)
        {
            selected = [.. modules.Where(m => m.Name == query.Module)];
            if (selected.Count == 0)
            {
                errors.Add(ModuleReports.UnknownModule(query.Module, modules));
            }
        }
        else if (modules.Count == 0)
        {
            errors.Add("this node has no modules (farmd --modules DIR)");
        }

        if (errors.Count > 0 || client is not { } key)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, string.Join("; ", errors)));
        }

        var answer = new Wire.WhoOwnsAnswer
        {
            Node = self,
            InstalledEpoch = installed?.Id.Epoch ?? 0,
            Coordinator = installed?.Id.Coordinator ?? "",
            Client = key.ToString(),
        };

        foreach (var module in selected)
        {
            var rules = module.Rules
                .Where(r => protocol is null || r.Protocol == protocol)
                .Where(r => query.ServicePort == 0 || (r.FirstPort <= query.ServicePort && query.ServicePort <= r.LastPort))
                .ToList();
            if (rules.Count == 0 && query.Module.Length > 0)
            {
                throw new RpcException(new Status(StatusCode.InvalidArgument,
                    $"module '{module.Name}' has no rule for {Describe(protocol, query.ServicePort)} (rules: {string.Join(", ", module.Rules)})"));
            }

            var hasher = new BucketHasher(module.Buckets, module.Seed);
            foreach (var group in rules.GroupBy(r => r.Affinity).OrderBy(g => g.Key))
            {
                answer.Owners.Add(Owner(module, [.. group], group.Key, hasher, key, self, installed, localState));
            }
        }

        if (answer.Owners.Count == 0)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"no module has a rule for {Describe(protocol, query.ServicePort)}"));
        }

        return answer;
    }

    /// <summary>The name the configuration uses for an affinity.</summary>
    public static string AffinityName(Affinity affinity) => affinity == Affinity.ClientIpPort ? "client_ip_port" : "client_ip";

    /// <summary>The protocol form of a bucket state.</summary>
    public static Wire.BucketState ToProto(BucketState state) => state switch
    {
        BucketState.Owned => Wire.BucketState.Owned,
        BucketState.Incoming or BucketState.Claimed => Wire.BucketState.Incoming,
        BucketState.Draining => Wire.BucketState.Draining,
        _ => Wire.BucketState.None,
    };

    private static Wire.BucketOwner Owner(
        ModuleConfig module,
        List<PortRuleConfig> rules,
        Affinity affinity,
        BucketHasher hasher,
        ClientKey client,
        string self,
        ClusterView? installed,
        Func<string, int, BucketState> localState)
    {
        var owner = new Wire.BucketOwner
        {
            Module = module.Name,
            Affinity = AffinityName(affinity),
            BucketCount = module.Buckets,
            Seed = module.Seed,
            Bucket = -1,
        };
        owner.Rules.AddRange(rules.Select(r => r.ToString()));

        if (affinity == Affinity.ClientIpPort && client.Port is null)
        {
            owner.Error = "affinity client_ip_port hashes the client's source port too: give the client as ADDRESS:PORT";
            return owner;
        }

        int bucket = hasher.BucketOf(new ClientKey(client.Address, affinity == Affinity.ClientIpPort ? client.Port : null), affinity);
        owner.Bucket = bucket;
        var table = installed?.Tables.GetValueOrDefault(module.Name);

        // A table of another size would come from a view made with another farm.yaml: its owners mean nothing here.
        owner.Owner = table is not null && table.BucketCount == module.Buckets ? table.OwnerOf(bucket) ?? "" : "";
        owner.LocalState = ToProto(localState(module.Name, bucket));
        owner.OwnerState = owner.Owner == self ? owner.LocalState : Wire.BucketState.Unknown;
        return owner;
    }

    private static ClientKey? ParseClient(Wire.WhoOwnsQuery query, List<string> errors)
    {
        if (query.ClientPort > ushort.MaxValue)
        {
            errors.Add($"client port {query.ClientPort} is not a port (1 to 65535)");
            return null;
        }

        // ClientKey.TryParse refuses the inet_aton shorthands and zone ids; a port inside the address field is refused
        // so that a client port never silently comes from two places.
        if (!ClientKey.TryParse(query.ClientAddress, out var parsed) || parsed.Port is not null)
        {
            errors.Add($"'{query.ClientAddress}' is not an IPv4 or IPv6 address");
            return null;
        }

        return new ClientKey(parsed.Address, query.ClientPort == 0 ? null : (ushort)query.ClientPort);
    }

    private static TransportProtocol? ParseProtocol(string protocol, List<string> errors)
    {
        switch (protocol.ToUpperInvariant())
        {
            case "":
                return null;
            case "TCP":
                return TransportProtocol.Tcp;
            case "UDP":
                return TransportProtocol.Udp;
            default:
                errors.Add($"protocol '{protocol}' is neither tcp nor udp");
                return null;
        }
    }

    private static string Describe(TransportProtocol? protocol, uint port)
    {
        string p = protocol?.ToString().ToLowerInvariant() ?? "tcp or udp";
        return port == 0 ? p : p + " port " + port.ToString(CultureInfo.InvariantCulture);
    }
}
