// The backbone registry with every family registered (import this module, not backbone.ts, to use it):
// `listBackbones()`, `createBackbone(name, opts)`, `backboneInfo(name)`, `backboneFromConfig(config)`.
// A new family is one module that calls registerBackboneFamily + registerBackbone, imported here.
import './iresnet_family.ts';
import './dlib_resnet29.ts';
import './faceres_mobilenet.ts';

export {
  backboneFromConfig, backboneInfo, createBackbone, hasBackbone, listBackboneFamilies, listBackbones,
  registerBackbone, registerBackboneFamily, requireTap,
} from './backbone.ts';
export { createIResNet, iresnetConfig, listIResNets, registerIResNet, type CreateIResNetOptions } from './iresnet_family.ts';
