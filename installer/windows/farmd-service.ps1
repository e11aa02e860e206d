<#
.SYNOPSIS
  Registers (or removes) farmd as a Windows service. Run from the folder of farmd.exe, as Administrator.
.DESCRIPTION
  On Windows farmd runs membership and the admin API only: the data plane (WinDivert) does not exist yet, so a node
  runs with --data-plane off and its modules count as ready without any filtering. See README.md, "Windows".
  Configuration: %ProgramData%\Farm\cluster.yaml (default of --cluster); the node is the one named like this host
  (or pass -Node). Logs go to the Windows event log (source farmd) and, with -LogDir, to daily files.
.EXAMPLE
  .\farmd-service.ps1 -Install -Node node1
  .\farmd-service.ps1 -Uninstall
#>
param(
    [switch] $Install,
    [switch] $Uninstall,
    [string] $Node,
    [string] $LogDir
)
$ErrorActionPreference = 'Stop'
$name = 'farmd'
$exe = Join-Path $PSScriptRoot 'farmd\farmd.exe'

if ($Uninstall) {
    if (Get-Service -Name $name -ErrorAction SilentlyContinue) {
        Stop-Service -Name $name -ErrorAction SilentlyContinue
        sc.exe delete $name | Out-Null
    }
    return
}

if (-not $Install) {
    Get-Help $MyInvocation.MyCommand.Path
    return
}

$arguments = @('--data-plane', 'off')
if ($Node) { $arguments += @('--node', $Node) }
if ($LogDir) { $arguments += @('--log-dir', "`"$LogDir`"") }
$binPath = "`"$exe`" " + ($arguments -join ' ')
New-Service -Name $name -BinaryPathName $binPath -DisplayName 'Farm cluster node (farmd)' -StartupType Automatic `
    -Description 'One node of a Farm cluster: membership and admin API (no data plane on Windows yet).' | Out-Null
# Restart after a crash, like Restart=on-failure under systemd.
sc.exe failure $name reset= 86400 actions= restart/2000/restart/2000/restart/2000 | Out-Null
Start-Service -Name $name
Get-Service -Name $name
