-- Neovim 0.11's own `vim.lsp.enable('edgewise')` with nothing but editors/nvim/lsp/ on
-- 'runtimepath' (no plugin code): the client starts `edgewise serve` from PATH, sends the
-- settings, completes, and the report diagnostic arrives after the accept command.
--
--   EDGEWISE_TEST=config.json nvim --headless --clean -u enable_driver.lua FILE
local cfg = vim.json.decode(assert(io.open(assert(os.getenv('EDGEWISE_TEST')))):read('*a'))
vim.opt.rtp:prepend(cfg.plugin_dir)
vim.o.swapfile = false

vim.lsp.config('edgewise', { settings = cfg.settings })
vim.lsp.enable('edgewise')

local result = {}
local function finish(code)
  local f = assert(io.open(cfg.out, 'w'))
  f:write(vim.json.encode(result))
  f:close()
  for _, client in ipairs(vim.lsp.get_clients()) do
    client:stop(true)
  end
  vim.cmd(code == 0 and 'qa!' or 'cq!')
end

vim.api.nvim_create_autocmd('VimEnter', {
  callback = function()
    local ok, err = xpcall(function()
      local buf = vim.api.nvim_get_current_buf()
      result.filetype = vim.bo[buf].filetype
      result.attached = vim.wait(60000, function()
        local c = vim.lsp.get_clients({ bufnr = buf, name = 'edgewise' })[1]
        return c ~= nil and c.initialized
      end, 20)
      local client = assert(vim.lsp.get_clients({ bufnr = buf, name = 'edgewise' })[1], 'no client')
      result.cmd = client.config.cmd
      result.root_dir = client.root_dir
      result.server_info = client.server_info
      result.plugin_loaded = package.loaded['edgewise'] ~= nil

      -- a completion where the fixture has its blank line inside the loop
      local row
      for i, line in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, false)) do
        if line:match('for name in sorted') then
          row = i
        end
      end
      local params = {
        textDocument = { uri = vim.uri_from_bufnr(buf) },
        position = { line = row, character = 8 },
        context = { triggerKind = 1 },
      }
      local responses = vim.lsp.buf_request_sync(buf, 'textDocument/inlineCompletion', params, 30000) or {}
      local item
      for _, r in pairs(responses) do
        result.error = r.err and vim.inspect(r.err) or result.error
        item = r.result and (r.result.items or r.result)[1] or item
      end
      result.item = item
      if item and item.command then
        local done = false
        client:exec_cmd(item.command, { bufnr = buf }, function()
          done = true
        end)
        vim.wait(10000, function()
          return done
        end, 20)
      end
      result.diagnostics = {}
      vim.wait(10000, function()
        return #vim.diagnostic.get(buf) > 0
      end, 20)
      for _, d in ipairs(vim.diagnostic.get(buf)) do
        table.insert(result.diagnostics, {
          source = d.source,
          code = d.code,
          message = d.message,
          data = d.user_data and d.user_data.lsp and d.user_data.lsp.data,
        })
      end
    end, debug.traceback)
    if not ok then
      result.error = err
    end
    finish(ok and 0 or 1)
  end,
})
