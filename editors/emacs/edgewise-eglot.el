;;; edgewise-eglot.el --- edgewise in Emacs through eglot  -*- lexical-binding: t; -*-

;; Works with the eglot of Emacs 29+ and with eglot 1.9+ on Emacs 28 (Debian: elpa-eglot).
;;
;;   (load "/path/to/edgewise/editors/emacs/edgewise-eglot.el")
;;   (setq edgewise-eglot-settings '(:model "/path/to/model.gguf"))   ; optional
;;   (add-hook 'python-mode-hook #'eglot-ensure)                      ; or M-x eglot
;;
;; Completions come through `completion-at-point' (and so Company/Corfu); code actions
;; through `eglot-code-actions'; the cost/confidence report of each arrives as a Flymake
;; note from source `edgewise'. eglot does not run a completion item's command, so this
;; file wraps eglot's completion function to run it (`edgewise.inlineAccepted`): that is
;; what makes the server publish the report of an accepted completion.

;;; Code:

(require 'cl-lib)
(require 'eglot)
(require 'jsonrpc)

(defvar edgewise-eglot-command '("edgewise" "serve")
  "The command that starts the edgewise language server.")

(defvar edgewise-eglot-settings nil
  "edgewise settings as a plist, keys as in schemas/config.schema.json.
For example (:model \"/path/to/model.gguf\" :maxTokens 48).  Sent as
initializationOptions when the server starts.")

(defvar edgewise-eglot-modes
  '(python-mode python-ts-mode js-mode js-ts-mode typescript-mode typescript-ts-mode
    tsx-ts-mode go-mode go-ts-mode rust-mode rust-ts-mode java-mode java-ts-mode
    c-mode c-ts-mode c++-mode c++-ts-mode)
  "Major modes in which eglot starts edgewise.")

(defun edgewise-eglot-contact (&optional _interactive)
  "The eglot contact of edgewise: its command and initialization options."
  (append edgewise-eglot-command
          (when edgewise-eglot-settings
            (list :initializationOptions edgewise-eglot-settings))))

(add-to-list 'eglot-server-programs (cons edgewise-eglot-modes #'edgewise-eglot-contact))

(defun edgewise-eglot--server-p (&optional server)
  "Non-nil when SERVER (default: the buffer's) is edgewise."
  (let ((server (or server (eglot-current-server))))
    (and server
         (equal (plist-get (eglot--server-info server) :name) "edgewise"))))

(defun edgewise-eglot-execute (command &optional arguments)
  "Ask the edgewise server of this buffer to run COMMAND with ARGUMENTS; its result."
  (let ((server (eglot-current-server)))
    (unless (edgewise-eglot--server-p server)
      (user-error "edgewise: no edgewise server manages this buffer"))
    (jsonrpc-request server :workspace/executeCommand
                     (if arguments
                         (list :command command :arguments arguments)
                       (list :command command)))))

(defun edgewise-eglot--accepted (item)
  "Run the command of the accepted completion ITEM (publishes its report)."
  (let ((command (plist-get item :command))
        (server (eglot-current-server)))
    (when (and command server)
      (jsonrpc-async-request server :workspace/executeCommand
                             (list :command (plist-get command :command)
                                   :arguments (plist-get command :arguments))
                             :success-fn #'ignore))))

(defun edgewise-eglot-completion-at-point ()
  "`eglot-completion-at-point', then run the accepted item's command."
  (let ((capf (eglot-completion-at-point)))
    (when capf
      (pcase-let* ((`(,beg ,end ,table . ,props) capf)
                   (exit (plist-get props :exit-function)))
        `(,beg ,end ,table
               :exit-function
               ,(lambda (proxy status)
                  (let ((item (or (get-text-property 0 'eglot--lsp-item proxy)
                                  (get-text-property
                                   0 'eglot--lsp-item
                                   (cl-find proxy (all-completions "" table)
                                            :test #'string=)))))
                    (when exit (funcall exit proxy status))
                    (when (and item (memq status '(finished exact)))
                      (edgewise-eglot--accepted item))))
               ,@props)))))

(defun edgewise-eglot--managed ()
  "Use the wrapped completion function in buffers edgewise manages."
  (when (and (eglot-managed-p) (edgewise-eglot--server-p))
    (setq-local completion-at-point-functions
                (cons #'edgewise-eglot-completion-at-point
                      (remq #'eglot-completion-at-point completion-at-point-functions)))))

(add-hook 'eglot-managed-mode-hook #'edgewise-eglot--managed)

(defun edgewise-eglot-cost ()
  "Show what this session's completions and actions cost."
  (interactive)
  (let* ((s (plist-get (edgewise-eglot-execute "edgewise.costReport") :session))
         (currency (or (plist-get s :currency) "")))
    (message "edgewise: %d requests, %d prompt + %d generated tokens (%d reused), %.2f s, %.4f Wh, local %.4f %s, cloud equivalent %.4f %s"
             (plist-get s :requests) (plist-get s :tokens_prompt)
             (plist-get s :tokens_completion) (plist-get s :tokens_cached)
             (plist-get s :model_seconds) (plist-get s :energy_wh)
             (plist-get s :local_cost) currency (plist-get s :cloud_equivalent) currency)))

(provide 'edgewise-eglot)
;;; edgewise-eglot.el ends here
