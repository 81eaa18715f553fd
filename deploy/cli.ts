import type { Command } from 'commander';

export function registerDeployCommands(_program: Command): void {}
