// The method + experiment selects that the Ablation and Paper tables views both filter runs by.
import { useMeta } from './App.tsx';

export function MethodExperimentFilters(props: {
  method: string; setMethod: (v: string) => void; experiment: string; setExperiment: (v: string) => void;
}) {
  const meta = useMeta();
  return (
    <>
      <label className="check">method
        <select value={props.method} onChange={(e) => props.setMethod(e.target.value)} aria-label="method">
          <option value="">any</option><option value="ssmb">ssmb</option><option value="baseline">baseline</option>
        </select>
      </label>
      <select value={props.experiment} onChange={(e) => props.setExperiment(e.target.value)} aria-label="experiment">
        <option value="">all experiments</option>
        {meta?.experiments.map((e) => <option key={e.id} value={e.id}>{e.name}</option>)}
      </select>
    </>
  );
}
