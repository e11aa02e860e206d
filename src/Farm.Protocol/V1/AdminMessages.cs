namespace Farm.Protocol.V1;

// The generated admin messages, each request with its query and reply, each reply with its answer.
public sealed partial class AdminRequest : IAdminRequest<StatusQuery, AdminReply>
{
}

public sealed partial class WhoOwnsRequest : IAdminRequest<WhoOwnsQuery, WhoOwnsReply>
{
}

public sealed partial class ModuleControlRequest : IAdminRequest<ModuleControlQuery, ModuleControlReply>
{
}

public sealed partial class ConfigApplyRequest : IAdminRequest<ConfigApplyQuery, ConfigApplyReply>
{
}

public sealed partial class DrainRequest : IAdminRequest<DrainQuery, DrainReply>
{
}

public sealed partial class ModulePackageRequest : IAdminRequest<ModulePackageQuery, ModulePackageReply>
{
}

public sealed partial class ModuleLogsRequest : IAdminRequest<ModuleLogsQuery, ModuleLogsReply>
{
}

public sealed partial class AdminReply : IAdminReply<NodeStatusReport>
{
    NodeStatusReport? IAdminReply<NodeStatusReport>.Answer { get => Status; set => Status = value; }
}

public sealed partial class WhoOwnsReply : IAdminReply<WhoOwnsAnswer>
{
}

public sealed partial class ModuleControlReply : IAdminReply<ModuleControlAnswer>
{
}

public sealed partial class ConfigApplyReply : IAdminReply<ConfigApplyAnswer>
{
}

public sealed partial class DrainReply : IAdminReply<DrainAnswer>
{
}

public sealed partial class ModulePackageReply : IAdminReply<ModulePackageAnswer>
{
}

public sealed partial class ModuleLogsReply : IAdminReply<ModuleLogBatch>
{
    ModuleLogBatch? IAdminReply<ModuleLogBatch>.Answer { get => Batch; set => Batch = value; }
}
