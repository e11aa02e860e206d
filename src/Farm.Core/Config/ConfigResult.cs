namespace Farm.Core.Config;

/// <summary>The outcome of parsing one configuration file: the validated model, or every error found.</summary>
/// <typeparam name="T">The configuration model (<see cref="ClusterConfig"/> or <see cref="ModuleConfig"/>).</typeparam>
public sealed class ConfigResult<T>
    where T : class
{
    internal ConfigResult(T? value, IReadOnlyList<ConfigError> errors)
    {
        // A half-valid model would invite callers to use it; hand it out only when it is clean.
        Value = errors.Count == 0 ? value : null;
        Errors = errors;
    }

    /// <summary>The validated model; null when <see cref="Errors"/> is not empty.</summary>
    public T? Value { get; }

    /// <summary>Every error found, in file order.</summary>
    public IReadOnlyList<ConfigError> Errors { get; }

    /// <summary>True when the file is valid and <see cref="Value"/> is set.</summary>
    public bool Succeeded => Value is not null;
}
