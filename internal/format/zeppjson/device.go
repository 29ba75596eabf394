package zeppjson

import (
	"strings"

	"github.com/bandsync/bandsync/internal/workout"
)

// Maker is the Device.Maker of every workout from the Zepp cloud: Huami
// (now Zepp Health) made every band and watch that syncs to it.
const Maker = "Zepp"

// modelNames maps bind_device model codes to product names, only where the
// reference documents the pairing (zepp-cloud-api.md §2.4: "0:MILI:8" is a
// Mi Band). Other codes (MILI_STUTTGART_W, …) stay codes: a guessed name
// would be worse than the honest code.
var modelNames = map[string]string{
	"MILI": "Mi Band",
}

// DeviceModel parses a summary's bind_device,
// "<n>:<model code>[:<deviceSource>[:<firmware>]]" such as
// "0:MILI_STUTTGART_W:10289411:0.132.24.1". The maker is always Zepp; the
// model is the product name where known, else the code; the firmware is the
// fourth part. An empty bind_device gives a Device with only the maker.
func DeviceModel(bindDevice string) workout.Device {
	dev := workout.Device{Maker: Maker}
	parts := strings.SplitN(strings.TrimSpace(bindDevice), ":", 4)
	if len(parts) < 2 {
		// no "<n>:" prefix: the whole value is the model code, if any
		parts = []string{"", parts[0]}
	}
	code := strings.TrimSpace(parts[1])
	if name, ok := modelNames[code]; ok {
		dev.Model = name
	} else {
		dev.Model = code
	}
	if len(parts) == 4 {
		dev.Firmware = strings.TrimSpace(parts[3])
	}
	return dev
}

// bindDevice is DeviceModel's inverse: "0:<code>[:0:<firmware>]", or ""
// when the device has no model.
func bindDevice(dev workout.Device) string {
	if dev.Model == "" && dev.Firmware == "" {
		return ""
	}
	code := dev.Model
	for c, name := range modelNames {
		if name == dev.Model {
			code = c
		}
	}
	code = strings.ReplaceAll(code, ":", "_")
	if dev.Firmware == "" {
		return "0:" + code
	}
	return "0:" + code + ":0:" + dev.Firmware
}
