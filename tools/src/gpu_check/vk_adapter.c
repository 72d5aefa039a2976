/* The GPU check's adapter probe: asks the Vulkan loader (the bundle's libvulkan.so.1, with the driver manifest
 * the `run` script chose in VK_DRIVER_FILES) for every physical device, and prints one tab-separated line per
 * device: type, name, driver name, driver info, Vulkan version, vendor id. onnxruntime's WebGPU provider runs
 * on Dawn over the same loader and driver, and onnxruntime does not report which adapter it opened, so this
 * is how the check names it. The loader is opened with dlopen so that a missing loader or driver is a line
 * of text, not a failed start. Exit code: 0 with at least one device, 2 when there is none, 3 when the
 * loader or an instance is unavailable. */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <vulkan/vulkan.h>

static const char *type_name(VkPhysicalDeviceType t) {
  switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete";
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual";
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return "cpu";
    default: return "other";
  }
}

int main(void) {
  void *lib = dlopen("libvulkan.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    printf("error\tthe Vulkan loader libvulkan.so.1 could not be opened: %s\n", dlerror());
    return 3;
  }
  PFN_vkGetInstanceProcAddr gipa = (PFN_vkGetInstanceProcAddr)dlsym(lib, "vkGetInstanceProcAddr");
  PFN_vkCreateInstance create = gipa ? (PFN_vkCreateInstance)gipa(NULL, "vkCreateInstance") : NULL;
  if (!create) {
    printf("error\tlibvulkan.so.1 has no vkCreateInstance\n");
    return 3;
  }
  VkApplicationInfo app = {VK_STRUCTURE_TYPE_APPLICATION_INFO, NULL, "ssmb-gpu-check", 1, NULL, 0, VK_API_VERSION_1_1};
  VkInstanceCreateInfo info = {VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, NULL, 0, &app, 0, NULL, 0, NULL};
  VkInstance inst;
  VkResult r = create(&info, NULL, &inst);
  if (r != VK_SUCCESS) {
    /* VK_ERROR_INCOMPATIBLE_DRIVER (-9): the loader found no driver manifest, or no driver it could load */
    printf("error\tvkCreateInstance failed with VkResult %d%s\n", (int)r,
           r == VK_ERROR_INCOMPATIBLE_DRIVER ? " (no usable Vulkan driver: no manifest found, or its library failed to load)" : "");
    return 3;
  }
  PFN_vkEnumeratePhysicalDevices enumerate = (PFN_vkEnumeratePhysicalDevices)gipa(inst, "vkEnumeratePhysicalDevices");
  PFN_vkGetPhysicalDeviceProperties2 props2 = (PFN_vkGetPhysicalDeviceProperties2)gipa(inst, "vkGetPhysicalDeviceProperties2");
  uint32_t n = 0;
  enumerate(inst, &n, NULL);
  VkPhysicalDevice devs[16];
  if (n > 16) n = 16;
  enumerate(inst, &n, devs);
  for (uint32_t i = 0; i < n; i++) {
    VkPhysicalDeviceDriverProperties drv;
    memset(&drv, 0, sizeof drv);
    drv.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES;
    VkPhysicalDeviceProperties2 p;
    memset(&p, 0, sizeof p);
    p.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2;
    p.pNext = &drv;
    props2(devs[i], &p);
    uint32_t v = p.properties.apiVersion;
    printf("device\t%s\t%s\t%s\t%s\t%u.%u.%u\t0x%04x\n", type_name(p.properties.deviceType), p.properties.deviceName,
           drv.driverName[0] ? drv.driverName : "unknown", drv.driverInfo[0] ? drv.driverInfo : "-",
           VK_API_VERSION_MAJOR(v), VK_API_VERSION_MINOR(v), VK_API_VERSION_PATCH(v), p.properties.vendorID);
  }
  PFN_vkDestroyInstance destroy = (PFN_vkDestroyInstance)gipa(inst, "vkDestroyInstance");
  if (destroy) destroy(inst, NULL);
  return n > 0 ? 0 : 2;
}
