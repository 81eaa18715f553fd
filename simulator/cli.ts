import type { Command } from 'commander';

export function registerSimulatorCommands(_program: Command): void {}
