using Farm.Cli;

// Kept to one line so everything testable lives in CliApp.
return CliApp.Run(args, Console.Out, Console.Error, CliTerminal.Detect());
