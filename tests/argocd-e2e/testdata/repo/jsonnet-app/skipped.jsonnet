// +argocd:skip-file-rendering
error 'Argo CD never evaluates this file'
