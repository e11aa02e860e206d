using System.Runtime.CompilerServices;

// farmctl's tests check the who-owns computation and the status rendering against this admin code directly; the
// attribute lives beside the code it opens (the project file belongs to the daemon as a whole).
[assembly: InternalsVisibleTo("Farm.Cli.Tests")]
