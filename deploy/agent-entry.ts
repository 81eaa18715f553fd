// Entry of the single-file agent bundle (scripts/build-agent): the whole `vigie` CLI without tsx,
// so a school's box needs Node and this one file, no node_modules.
import { main } from '../cli/main.ts';

process.exitCode = await main(process.argv);
