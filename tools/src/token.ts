// The server's token, for `ssmb serve` (a fixed one), `ssmb worker --server` and the Slurm launcher: from
// the SSMB_TOKEN environment variable or a file only readable by its owner (--token-file), never from
// the command line, which every user of the machine can read (ps, /proc/PID/cmdline, squeue).
import { Option } from 'commander';
import { TOKEN_ENV, readTokenFile } from '@ssmb/dashboard';

export const TOKEN_FLAG_REFUSED =
  `--token puts the token on the command line, where every user of this machine can read it (ps, /proc/PID/cmdline): ` +
  `pass it in the ${TOKEN_ENV} environment variable or in a file only you can read (--token-file FILE, chmod 600)`;

/** `--token VALUE` on a command: refused when parsed, before anything runs or is sent. */
export function tokenFlag(): Option {
  return new Option('--token <token>', 'refused: a token on the command line is visible to every user (ps); use SSMB_TOKEN or --token-file').argParser(() => {
    throw new Error(TOKEN_FLAG_REFUSED);
  });
}

/** The token from --token-file or SSMB_TOKEN (the file wins); null when neither is given. */
export function readToken(o: { tokenFile?: string }, env: NodeJS.ProcessEnv = process.env): string | null {
  if (o.tokenFile !== undefined) return readTokenFile(o.tokenFile);
  const v = env[TOKEN_ENV]?.trim();
  return v ? v : null;
}
