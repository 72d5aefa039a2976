// Fold names of a registered protocol, for sweeps (`dataset.fold=all`) and evaluation runs. A leaf
// module: cli_support (which runs workers) and the evaluate executor (which a worker loads) both use it.

/** Fold names of a registered protocol (sweeps expand `dataset.fold=all` with it). */
export async function protocolFoldNames(protocol: string): Promise<string[]> {
  const p = await import('@ssmb/protocols');
  return p.protocolFolds(p.getProtocol(protocol));
}
