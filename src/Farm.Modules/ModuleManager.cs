using System.Collections.Immutable;
using System.Globalization;
using System.Threading.Channels;
using Farm.Core.Config;
using Farm.Modules.Checkers;
using Farm.Modules.Scripts;
using Farm.Modules.State;
using Microsoft.Extensions.Logging;

namespace Farm.Modules;

/// <summary>
/// Runs one module on this node: feeds admin requests, script ends, checker verdicts, gate confirmations and timers
/// one at a time (a channel) into the module's state machine and performs the I/O it asks for. The daemon creates one
/// per module, calls <see cref="Start"/> at boot, forwards admin commands, calls <see cref="BecomePrimary"/> /
/// <see cref="StopBeingPrimary"/> when a view changes the owner of a <c>single</c> module, and implements
/// <see cref="IModuleTrafficGate"/>.
/// </summary>
public sealed partial class ModuleManager : IAsyncDisposable
{
    private readonly ModuleConfig config;
    private readonly ModuleHostOptions options;
    private readonly IModuleTrafficGate gate;
    private readonly IScriptRunner runner;
    private readonly Dictionary<string, IChecker> checkers;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly ModuleStateMachine machine;
    private readonly ImmutableDictionary<string, string> baseEnvironment;
    private readonly Channel<ModuleEvent> events = Channel.CreateUnbounded<ModuleEvent>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Channel<Func<CancellationToken, Task>> gateCalls = Channel.CreateUnbounded<Func<CancellationToken, Task>>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource stopping = new();
    private readonly Lock waitersLock = new();
    private readonly List<(Func<ModuleStatus, bool> Predicate, TaskCompletionSource<ModuleStatus> Done)> waiters = [];
    private readonly Task loop;
    private readonly Task gateLoop;
    private readonly List<Task> background = [];
    private CancellationTokenSource? checkerLoops;
    private volatile ModuleStatus status;
    private int disposed;

    internal ModuleManager(
        ModuleConfig config,
        ModuleHostOptions options,
        IModuleTrafficGate gate,
        IScriptRunner runner,
        Func<CheckerConfig, IChecker> checkerFactory,
        TimeProvider timeProvider,
        ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(checkerFactory);
        this.config = config;
        this.options = options;
        this.gate = gate ?? throw new ArgumentNullException(nameof(gate));
        this.runner = runner ?? throw new ArgumentNullException(nameof(runner));
        time = timeProvider ?? throw new ArgumentNullException(nameof(timeProvider));
        this.logger = logger ?? throw new ArgumentNullException(nameof(logger));
        baseEnvironment = BaseEnvironment(config, options);
        checkers = config.Checkers.ToDictionary(c => c.Name, checkerFactory, StringComparer.Ordinal);
        machine = new ModuleStateMachine(config, options.NodeName, timeProvider);
        status = machine.Snapshot();
        loop = Task.Run(RunLoopAsync);
        gateLoop = Task.Run(RunGateLoopAsync);
    }

    /// <summary>Raised on the manager's loop after every change of <see cref="Status"/>; handlers must not block.</summary>
    public event EventHandler<ModuleStatus>? StatusChanged;

    /// <summary>The module's name.</summary>
    public string Module => config.Name;

    /// <summary>The latest status snapshot (replaced whole; safe to read from any thread).</summary>
    public ModuleStatus Status => status;

    /// <summary>Creates the manager of <paramref name="config"/> with the real script runner and checkers.</summary>
    public static ModuleManager Create(ModuleConfig config, ModuleHostOptions options, IModuleTrafficGate gate, TimeProvider timeProvider, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        var runner = new ProcessScriptRunner(timeProvider, loggerFactory.CreateLogger<ProcessScriptRunner>()) { NiceAdjustment = options.ScriptNiceAdjustment };
        var context = new CheckerContext(config.Name, options.ModuleDirectory, runner, BaseEnvironment(config, options));
        return new ModuleManager(config, options, gate, runner, c => CheckerFactory.Create(c, context), timeProvider, loggerFactory.CreateLogger<ModuleManager>());
    }

    /// <summary>Starts a stopped module (at boot or by an admin) and resets its recovery count. No-op while it starts or runs.</summary>
    public void Start(string reason) => Post(new ModuleEvent.Admin(AdminAction.Start, reason));

    /// <summary>Stops the module here until the next <see cref="Start"/>: traffic closes, then the stop scripts run.</summary>
    public void Stop(string reason) => Post(new ModuleEvent.Admin(AdminAction.Stop, reason));

    /// <summary>Full stop then full start; resets the recovery count.</summary>
    public void Restart(string reason) => Post(new ModuleEvent.Admin(AdminAction.Restart, reason));

    /// <summary>Mode single: the installed view made this node the owner. start_prim runs, then <see cref="IModuleTrafficGate.SetPrimaryAsync"/>(true).</summary>
    public void BecomePrimary() => Post(new ModuleEvent.PrimaryRequested(true));

    /// <summary>Mode single: another node became the owner. <see cref="IModuleTrafficGate.SetPrimaryAsync"/>(false), then stop_prim.</summary>
    public void StopBeingPrimary() => Post(new ModuleEvent.PrimaryRequested(false));

    /// <summary>Completes with the first status (the current one included) that satisfies <paramref name="predicate"/>.</summary>
    public Task<ModuleStatus> WaitForStatusAsync(Func<ModuleStatus, bool> predicate, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        var done = new TaskCompletionSource<ModuleStatus>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (waitersLock)
        {
            var current = status;
            if (predicate(current))
            {
                return Task.FromResult(current);
            }

            waiters.Add((predicate, done));
        }

        return done.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Stops the module and completes when it is stopped (for daemon shutdown); the scripts' own limits bound the wait.</summary>
    public async Task<ModuleStatus> StopAndWaitAsync(string reason, CancellationToken cancellationToken)
    {
        Stop(reason);
        await FlushAsync(cancellationToken); // so an earlier, not yet handled Start cannot make the wait end early
        return await WaitForStatusAsync(s => s.IsStopped, cancellationToken);
    }

    /// <summary>Ends the loops and checkers. It does not stop the application: call <see cref="StopAndWaitAsync"/> first.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        await stopping.CancelAsync();
        events.Writer.TryComplete();
        gateCalls.Writer.TryComplete();
        await Task.WhenAll(loop, gateLoop);

        // Scripts and checks saw the cancellation and kill what they started; wait for that so nothing outlives the manager.
        Task[] rest;
        lock (background)
        {
            rest = [.. background];
        }

        await Task.WhenAll(rest);
        checkerLoops?.Dispose();
        foreach (var checker in checkers.Values.OfType<IDisposable>())
        {
            checker.Dispose();
        }

        lock (waitersLock)
        {
            foreach (var (_, done) in waiters)
            {
                done.TrySetCanceled();
            }

            waiters.Clear();
        }

        stopping.Dispose();
    }

    /// <summary>
    /// Completes when every event posted before it has been handled, so <see cref="Status"/> then reflects them (the
    /// daemon waits for a settled state after an admin request this way).
    /// </summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Post(new Flush(done));
        await done.Task.WaitAsync(cancellationToken);
    }

    private static ImmutableDictionary<string, string> BaseEnvironment(ModuleConfig config, ModuleHostOptions options) =>
        new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["FARM_MODULE"] = config.Name,
            ["FARM_NODE"] = options.NodeName,
            ["FARM_VIP"] = config.Vips.Count > 0 ? config.Vips[0].ToString() : "",
            ["FARM_VIPS"] = string.Join(' ', config.Vips),
            ["FARM_INTERFACE"] = config.Interface,
            ["FARM_MODE"] = config.Mode == ModuleMode.Single ? "single" : "balance",
            ["FARM_MODULE_DIR"] = options.ModuleDirectory,
        }.ToImmutableDictionary(StringComparer.Ordinal);

    private static string Name(ModuleState state) => state.ToString().ToUpperInvariant();

    private void Post(ModuleEvent e) => events.Writer.TryWrite(e);

    private async Task RunLoopAsync()
    {
        try
        {
            await foreach (var e in events.Reader.ReadAllAsync(stopping.Token))
            {
                if (e is Flush flush)
                {
                    flush.Done.TrySetResult();
                    continue;
                }

                try
                {
                    var before = status;
                    var commands = machine.Handle(e);
                    if (machine.TakeRecovery() is { } recovery)
                    {
                        options.Observer?.Recovered(config.Name, recovery);
                    }

                    foreach (var command in commands)
                    {
                        Execute(command);
                    }

                    Publish(before, machine.Snapshot());
                }
                catch (Exception ex)
                {
                    // One bad event must not end the module's supervision.
                    Log.LoopError(logger, ex, config.Name, e.GetType().Name);
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Disposed.
        }
    }

    private async Task RunGateLoopAsync()
    {
        try
        {
            // Gate calls run one at a time, in order: an open must reach membership before the close that follows it.
            await foreach (var call in gateCalls.Reader.ReadAllAsync(stopping.Token))
            {
                await call(stopping.Token);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Disposed.
        }
    }

    private void Execute(ModuleCommand command)
    {
        switch (command)
        {
            case ModuleCommand.RunScript run:
                Track(RunScriptAsync(run));
                break;

            case ModuleCommand.ArmCheckers arm:
                Arm(arm);
                break;

            case ModuleCommand.OpenTraffic open:
                EnqueueGate("open", ct => gate.OpenAsync(config.Name, open.Reason, ct), options.GateConfirmTimeout, answer: false);
                break;

            case ModuleCommand.CloseTraffic close:
                EnqueueGate("close", ct => gate.CloseAsync(config.Name, close.Reason, ct), config.Timeouts.Drain + options.GateConfirmTimeout, answer: true);
                break;

            case ModuleCommand.SetPrimary primary:
                EnqueueGate(primary.Primary ? "primary" : "secondary", ct => gate.SetPrimaryAsync(config.Name, primary.Primary, ct), options.GateConfirmTimeout, answer: !primary.Primary);
                break;

            case ModuleCommand.StartTimer timer:
                _ = FireTimerAsync(timer);
                break;
        }
    }

    private void EnqueueGate(string what, Func<CancellationToken, Task> call, TimeSpan bound, bool answer) =>
        gateCalls.Writer.TryWrite(async ct =>
        {
            using var timeout = new CancellationTokenSource(bound, time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token);
            try
            {
                await call(linked.Token).WaitAsync(bound, time, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return; // disposed: nobody waits for the answer
            }
            catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
            {
                // Never hang a stop on a lost confirmation; the application stops anyway.
                Log.GateTimedOut(logger, config.Name, what, bound);
            }
            catch (Exception ex)
            {
                Log.GateFailed(logger, ex, config.Name, what);
            }

            if (answer)
            {
                Post(new ModuleEvent.GateCompleted());
            }
        });

    private async Task RunScriptAsync(ModuleCommand.RunScript run)
    {
        string epoch = gate.Epoch.ToString(CultureInfo.InvariantCulture);
        var environment = new Dictionary<string, string>(baseEnvironment, StringComparer.Ordinal)
        {
            ["FARM_SCRIPT"] = run.Script,
            ["FARM_STATE"] = Name(run.From),
            ["FARM_NEXT_STATE"] = Name(run.To),
            ["FARM_ACTION"] = run.Action,
            ["FARM_REASON"] = run.Reason,
            ["FARM_EPOCH"] = epoch,
        };
        string[] arguments = [config.Name, options.NodeName, baseEnvironment["FARM_VIP"], Name(run.From), Name(run.To), run.Action, epoch];
        var request = new ScriptRequest(
            config.Name,
            run.Script,
            Path.Combine(options.ModuleDirectory, "bin", run.Script),
            arguments,
            environment,
            options.ModuleDirectory,
            config.ScriptTimeout(run.Script),
            config.Timeouts.StopForce,
            ForceOnTimeout: !ScriptConfig.IsStartScript(run.Script));

        Log.ScriptStarting(logger, config.Name, run.Script, Name(run.From), Name(run.To), run.Action);
        ScriptResult result;
        long started = time.GetTimestamp();
        try
        {
            result = await runner.RunAsync(request, stopping.Token);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            return;
        }
        catch (Exception ex)
        {
            Log.RunnerThrew(logger, ex, config.Name, run.Script);
            result = new ScriptResult(ScriptOutcome.Failed, null, $"could not run: {ex.Message}");
        }

        var level = result.Outcome switch
        {
            ScriptOutcome.Succeeded => LogLevel.Information,
            ScriptOutcome.Skipped => LogLevel.Debug,
            ScriptOutcome.Forced => LogLevel.Warning,
            _ => LogLevel.Error,
        };
        Log.ScriptFinished(logger, level, config.Name, run.Script, result.Describe());
        options.Observer?.ScriptRan(config.Name, run.Script, OutcomeName(result.Outcome), time.GetElapsedTime(started));
        Post(new ModuleEvent.ScriptCompleted(run.Script, result));
    }

    private void Arm(ModuleCommand.ArmCheckers arm)
    {
        if (checkerLoops is not null)
        {
            checkerLoops.Cancel();
            checkerLoops.Dispose();
            checkerLoops = null;
        }

        if (arm.Set is not { } set)
        {
            return;
        }

        checkerLoops = CancellationTokenSource.CreateLinkedTokenSource(stopping.Token);
        var token = checkerLoops.Token;
        foreach (var checker in config.Checkers.Where(c => c.When == set))
        {
            string name = checker.Name;
            long generation = arm.Generation;
            // Off the event loop: a check may block (a /proc scan) and must not delay other events.
            Track(Task.Run(
                () => CheckerMonitor.RunAsync(config.Name, checker, checkers[name], r => Post(new ModuleEvent.CheckerReported(name, generation, r.Up, r.Detail)), time, logger, token, options.Observer),
                CancellationToken.None));
        }
    }

    /// <summary>Remembers a script run or checker loop until it ends, so <see cref="DisposeAsync"/> can wait for it.</summary>
    private void Track(Task task)
    {
        lock (background)
        {
            background.RemoveAll(t => t.IsCompleted);
            background.Add(task);
        }
    }

    private async Task FireTimerAsync(ModuleCommand.StartTimer timer)
    {
        try
        {
            await Task.Delay(timer.Delay, time, stopping.Token);
            Post(new ModuleEvent.TimerFired(timer.Generation));
        }
        catch (OperationCanceledException)
        {
            // Disposed.
        }
    }

    private void Publish(ModuleStatus before, ModuleStatus after)
    {
        bool changed = before.State != after.State || before.SubState != after.SubState || before.Reason != after.Reason ||
            before.Step != after.Step || before.IsPrimary != after.IsPrimary || before.RecoveryCount != after.RecoveryCount ||
            !before.Checkers.SequenceEqual(after.Checkers);
        if (!changed)
        {
            return;
        }

        if (before.State != after.State || before.SubState != after.SubState || before.Reason != after.Reason || before.IsPrimary != after.IsPrimary)
        {
            Log.StateChanged(logger, config.Name, Name(after.State), after.SubState, after.IsPrimary ? " (primary)" : "", after.Reason);
        }

        List<TaskCompletionSource<ModuleStatus>> satisfied = [];
        lock (waitersLock)
        {
            status = after;
            for (int i = waiters.Count - 1; i >= 0; i--)
            {
                if (waiters[i].Predicate(after))
                {
                    satisfied.Add(waiters[i].Done);
                    waiters.RemoveAt(i);
                }
            }
        }

        foreach (var done in satisfied)
        {
            done.TrySetResult(after);
        }

        try
        {
            StatusChanged?.Invoke(this, after);
        }
        catch (Exception ex)
        {
            Log.HandlerThrew(logger, ex, config.Name);
        }
    }

    /// <summary>The metric label of a script outcome.</summary>
    internal static string OutcomeName(ScriptOutcome outcome) => outcome switch
    {
        ScriptOutcome.Succeeded => "succeeded",
        ScriptOutcome.Skipped => "skipped",
        ScriptOutcome.Forced => "forced",
        ScriptOutcome.TimedOut => "timed_out",
        _ => "failed",
    };

    /// <summary>A marker in the event queue; see <see cref="FlushAsync"/>.</summary>
    private sealed record Flush(TaskCompletionSource Done) : ModuleEvent;

    private static partial class Log
    {
        [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Module {Module} is {State}/{SubState}{Primary}: {Reason}")]
        public static partial void StateChanged(ILogger logger, string module, string state, ModuleSubState subState, string primary, string reason);

        [LoggerMessage(EventId = 3002, Level = LogLevel.Information, Message = "Module {Module}: running {Script} ({From} -> {To}, action {Action})")]
        public static partial void ScriptStarting(ILogger logger, string module, string script, string from, string to, string action);

        [LoggerMessage(EventId = 3003, Message = "Module {Module}: {Script} ended: {Detail}")]
        public static partial void ScriptFinished(ILogger logger, LogLevel level, string module, string script, string detail);

        [LoggerMessage(EventId = 3004, Level = LogLevel.Warning, Message = "Module {Module}: the traffic gate did not confirm '{What}' within {Bound}; going on")]
        public static partial void GateTimedOut(ILogger logger, string module, string what, TimeSpan bound);

        [LoggerMessage(EventId = 3005, Level = LogLevel.Error, Message = "Module {Module}: the traffic gate failed on '{What}'; going on")]
        public static partial void GateFailed(ILogger logger, Exception exception, string module, string what);

        [LoggerMessage(EventId = 3006, Level = LogLevel.Error, Message = "Module {Module}: handling {Event} failed; the loop goes on")]
        public static partial void LoopError(ILogger logger, Exception exception, string module, string @event);

        [LoggerMessage(EventId = 3007, Level = LogLevel.Error, Message = "Module {Module}: the script runner threw on {Script}")]
        public static partial void RunnerThrew(ILogger logger, Exception exception, string module, string script);

        [LoggerMessage(EventId = 3008, Level = LogLevel.Warning, Message = "Module {Module}: a StatusChanged handler threw")]
        public static partial void HandlerThrew(ILogger logger, Exception exception, string module);
    }
}
