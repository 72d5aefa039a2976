// The server's /api/meta (experiments, metric display specs, launch kinds, limits), shared by every view.
import { createContext, useContext } from 'react';
import type { Meta } from './api.ts';

export const MetaContext = createContext<Meta | undefined>(undefined);
export const useMeta = () => useContext(MetaContext);
