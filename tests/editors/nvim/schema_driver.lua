-- Dumps the plugin's generated settings table, their defaults and the plugin's option
-- defaults as JSON.
--   nvim --headless --clean -l schema_driver.lua PLUGIN_DIR OUT.json
local plugin_dir, out = arg[1], arg[2]
vim.opt.rtp:prepend(plugin_dir)
local config = require('edgewise.config')
local f = assert(io.open(out, 'w'))
f:write(vim.json.encode({
  settings = config.settings,
  settings_defaults = config.settings_defaults(),
  defaults = config.defaults(),
}))
f:close()
